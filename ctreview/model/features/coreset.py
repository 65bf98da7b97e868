"""Subsampling a memory bank of patch features: greedy k-center coreset or a random subset.

PatchCore (Roth et al. 2022) keeps a coreset chosen by greedy k-center
selection (farthest-point sampling): each new entry is the feature farthest
from every entry kept so far, so rare normal textures survive, which a random
subset of the same size loses. Distances for the selection are computed
after a seeded Gaussian random projection to ~128 dimensions
(Johnson-Lindenstrauss), which preserves them well enough and makes each
step a single matrix-vector product.
"""
from __future__ import annotations

import math
from collections.abc import Generator

import torch


def random_projection(dim_in: int, dim_out: int, seed: int) -> torch.Tensor:
    """A seeded Gaussian projection matrix, shape (dim_in, dim_out), scaled to keep distances."""
    g = torch.Generator().manual_seed(int(seed))
    return torch.randn(dim_in, dim_out, generator=g) / math.sqrt(dim_out)


def coreset_size(n: int, ratio: float) -> int:
    """Number of entries a ``ratio`` coreset of ``n`` features keeps (at least 1)."""
    return max(1, min(n, int(round(n * ratio))))


def greedy_coreset(features: torch.Tensor, k: int, *, dims: int = 128, seed: int = 0) -> torch.Tensor:
    """Greedy k-center selection.

    Parameters
    ----------
    features : Tensor, shape (n, d)
    k : int
        Entries to keep (<= n).
    dims : int
        Project to this many dimensions for the selection when d is larger.
    seed : int
        Seeds the projection and the first entry.

    Returns
    -------
    LongTensor, shape (k,)
        Indices into ``features``, in the order chosen.
    """
    steps = iter_greedy_coreset(features, k, dims=dims, seed=seed)
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


def iter_greedy_coreset(features: torch.Tensor, k: int, *, dims: int = 128, seed: int = 0,
                        every: int = 512) -> Generator[tuple[int, int], None, torch.Tensor]:
    """:func:`greedy_coreset` as a generator: yields ``(chosen, k)`` every ``every`` steps, returns the indices."""
    n = features.shape[0]
    k = min(int(k), n)
    z = features.float()
    if z.shape[1] > dims:
        z = z @ random_projection(z.shape[1], dims, seed)
    sq = (z * z).sum(1)
    g = torch.Generator().manual_seed(int(seed) + 1)
    chosen = torch.empty(k, dtype=torch.long)
    nearest = torch.full((n,), float("inf"))
    idx = int(torch.randint(n, (1,), generator=g))
    for i in range(k):
        chosen[i] = idx
        # |z - c|^2 = |z|^2 - 2 z.c + |c|^2: one matrix-vector product per step
        d = (sq - 2.0 * (z @ z[idx]) + sq[idx]).clamp_min_(0.0)
        torch.minimum(nearest, d, out=nearest)
        idx = int(torch.argmax(nearest))
        if (i + 1) % every == 0:
            yield i + 1, k
    return chosen


def random_subset(n: int, k: int, *, seed: int = 0) -> torch.Tensor:
    """``k`` distinct indices out of ``n``, seeded, shape (k,)."""
    g = torch.Generator().manual_seed(int(seed))
    return torch.randperm(n, generator=g)[:min(int(k), n)]


def coverage_radius(features: torch.Tensor, kept: torch.Tensor, chunk: int = 4096) -> float:
    """Largest distance from any feature (n, d) to its nearest kept entry: what a coreset gives up."""
    bank = features[kept]
    worst = 0.0
    for start in range(0, features.shape[0], chunk):
        d = torch.cdist(features[start:start + chunk], bank).min(1).values
        worst = max(worst, float(d.max()))
    return worst
