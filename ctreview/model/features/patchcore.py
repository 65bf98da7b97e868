"""PatchCore (Roth et al., "Towards total recall in industrial anomaly detection", CVPR 2022).

Normal patch features go into a memory bank, thinned to a coreset; a patch
is as anomalous as its distance to the nearest bank entry. Nothing is
position-bound, so parts in any pose are compared with every normal patch.
With ``position_window`` set, each image carries a position (height along
the part, say) and only bank patches from images within the window count.
"""
from __future__ import annotations

from collections.abc import Generator

import torch

from ctreview.errors import CtreviewError
from ctreview.model.features.coreset import coreset_size, iter_greedy_coreset, random_subset
from ctreview.model.features.model import FeatureModel
from ctreview.model.features.reservoir import Reservoir
from ctreview.progress import drain, mapped

CHUNK = 2048
"""Query patches per ``torch.cdist`` call: bounds memory at CHUNK x bank floats."""


class PatchCore(FeatureModel):
    """Nearest-neighbour distance to a coreset of normal patch features.

    Attributes
    ----------
    bank : Tensor, shape (m, d)
        The kept normal patch features.
    bank_positions : Tensor, shape (m,), or None
        Position of the image each entry came from (with ``position_window``).
    """

    kind = "patchcore"

    def __init__(self, settings=None, *, backbone=None) -> None:
        super().__init__(settings, backbone=backbone)
        self.bank = torch.empty(0)
        self.bank_positions: torch.Tensor | None = None
        self.patches_seen = 0

    def _begin(self, images: int) -> None:
        self._pool = Reservoir(self.settings.max_patches, self.settings.seed)

    def _add(self, feats, cells, positions) -> None:
        if self.settings.position_window is not None and positions is None:
            raise CtreviewError(None, "this feature model compares positions: give one per image")
        for i, (f, c) in enumerate(zip(feats, cells)):
            rows = f.permute(1, 2, 0)[c]  # (cells inside, d)
            where = None if positions is None else torch.full((rows.shape[0],), float(positions[i]))
            self._pool.add(rows, where)

    def _end(self) -> Generator[tuple[str, int, int], None, None]:
        pool = self._pool
        bank, pos = pool.rows(), pool.values()
        self._pool = Reservoir(1)
        if bank.shape[0] == 0:
            raise CtreviewError(None, "no normal patch inside the masks: nothing to learn from")
        self.patches_seen = pool.seen
        keep = yield from self._select(bank)
        self.bank = bank[keep].contiguous()
        self.bank_positions = None if self.settings.position_window is None or pos is None \
            else pos[keep].contiguous()

    def _fit(self, feats, cells, positions) -> None:
        self._begin(len(feats))
        self._add(feats, cells, positions)
        drain(self._end())

    def _select(self, bank: torch.Tensor) -> Generator[tuple[str, int, int], None, torch.Tensor]:
        s = self.settings
        k = coreset_size(bank.shape[0], s.coreset_ratio)
        if s.coreset == "none" or k == bank.shape[0]:
            return torch.arange(bank.shape[0])
        if s.coreset == "random":
            return random_subset(bank.shape[0], k, seed=s.seed)
        steps = iter_greedy_coreset(bank, k, dims=s.coreset_dims, seed=s.seed)
        return (yield from mapped(steps, lambda step: ("coreset", step[0], step[1])))

    def _distances(self, feats, positions) -> torch.Tensor:
        b, d, h, w = feats.shape
        queries = feats.permute(0, 2, 3, 1).reshape(b, h * w, d)
        if self.settings.position_window is None:
            return nearest_distance(queries.reshape(-1, d), self.bank).reshape(b, h, w)
        if positions is None:
            raise CtreviewError(None, "this feature model compares positions: give one per image")
        out = []
        for q, p in zip(queries, positions):
            near = (self.bank_positions - p).abs() <= self.settings.position_window
            bank = self.bank[near] if near.any() else self.bank  # outside the fitted range: all of it
            out.append(nearest_distance(q, bank).reshape(h, w))
        return torch.stack(out)

    def state_dict(self) -> dict[str, torch.Tensor]:
        state = {"bank": self.bank}
        if self.bank_positions is not None:
            state["bank_positions"] = self.bank_positions
        if self.features.projection is not None:
            state["projection"] = self.features.projection
        return state

    def load_state(self, state, config) -> None:
        bank = state.get("bank")
        if bank is None or bank.ndim != 2 or bank.shape[1] != config.get("dim"):
            raise CtreviewError(None, "feature model state has no memory bank of the configured size")
        if self.settings.position_window is not None and "bank_positions" not in state:
            raise CtreviewError(None, "feature model state lacks the positions of its memory bank")
        self.bank, self.dim = bank.float(), int(bank.shape[1])
        self.bank_positions = state.get("bank_positions")
        if "projection" in state:  # stored, so a model never depends on the RNG of another torch
            self.features.projection = state["projection"].float()


def nearest_distance(queries: torch.Tensor, bank: torch.Tensor, chunk: int = CHUNK) -> torch.Tensor:
    """Euclidean distance (n,) from each query (n, d) to its nearest bank row (m, d), chunked."""
    out = torch.empty(queries.shape[0])
    for start in range(0, queries.shape[0], chunk):
        out[start:start + chunk] = torch.cdist(queries[start:start + chunk], bank).min(1).values
    return out
