"""Train the defect head on normal tiles with synthetic defects.

Every batch draws normal tile stacks (centre + context slices, see
:mod:`ctreview.training.context`), flips them as the profile allows and
plants generic synthetic defects (:mod:`ctreview.training.synthetic`) into
a random share of them; the head learns the defect masks with focal + soft
Dice loss and Adam. A whole volume is held out (never a random share of
tiles: neighbouring slices are near copies) to report the false-positive
pixel rate on normal tiles the head never saw, and its pixel AUROC on the
same tiles with synthetic defects.

:func:`train_head` is a generator of :class:`HeadProgress` (a GUI worker
turns it into signals; ``should_stop`` is checked between iterations) whose
return value is a :class:`HeadTrainResult`.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import rankdata

from ctreview.errors import Cancelled, CtreviewError
from ctreview.model.head import DefectHead, ExtraFn, HeadConfig, HeadModel
from ctreview.training.context import ContextTiles
from ctreview.training.synthetic import DefectSettings, plant_defects


@dataclass(frozen=True)
class HeadTrainSettings:
    """Every setting of a head training run (stored with the head).

    ``max_tiles`` bounds the normal tile stacks held for training (a uniform
    sample of the fit slices' tiles beyond it): the head draws
    ``iterations x batch_size`` of them, so more only costs memory.
    """

    iterations: int = 600
    batch_size: int = 16
    lr: float = 2e-3
    defect_share: float = 0.6
    focal_gamma: float = 2.0
    focal_alpha: float = 0.75
    dice_weight: float = 1.0
    widths: tuple[int, ...] = (16, 32, 64, 64)
    holdout: float = 0.15
    eval_every: int = 100
    flip: bool = True
    rot90: bool = False
    percentiles: tuple[float, float] = (0.5, 99.5)
    max_tiles: int = 4096
    seed: int = 0
    defects: DefectSettings = field(default_factory=DefectSettings)


@dataclass
class HeadProgress:
    """One training iteration; ``heldout`` is filled every ``eval_every`` iterations and at the end."""

    iteration: int
    total: int
    losses: dict
    seconds: float
    heldout: dict | None = None


@dataclass
class HeadTrainResult:
    """What :func:`train_head` returns: the head, per-iteration losses and the held-out figures."""

    model: HeadModel
    history: list[dict]
    heldout: dict
    seconds: float


def focal_dice_loss(logits: torch.Tensor, target: torch.Tensor, gamma: float = 2.0,
                    alpha: float = 0.75, dice_weight: float = 1.0) -> dict[str, torch.Tensor]:
    """Focal loss (Lin et al.) + soft Dice over the whole batch; maps ``(n, 1, H, W)``.

    Dice is pooled over the batch so tiles without a defect add false
    positives to the denominator instead of a 0/0.
    """
    p = torch.sigmoid(logits)
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    pt = torch.where(target > 0.5, p, 1 - p)
    at = torch.where(target > 0.5, torch.full_like(p, alpha), torch.full_like(p, 1 - alpha))
    focal = (at * (1 - pt) ** gamma * bce).mean()
    dice = 1 - (2 * (p * target).sum() + 1) / (p.sum() + target.sum() + 1)
    return {"loss": focal + dice_weight * dice, "focal": focal, "dice": dice}


def _window(tiles: np.ndarray, percentiles: tuple[float, float]) -> tuple[float, float]:
    sample = tiles[:, 0].reshape(-1)
    sample = sample[:: max(1, sample.size // 2_000_000)]
    lo, hi = (float(v) for v in np.percentile(sample, percentiles))
    if not hi > lo:
        raise CtreviewError(None, "training tiles are constant: no intensity window can be fitted")
    return lo, hi


def _split(groups: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Bool mask of held-out tiles: whole groups (volumes); none when there is only one."""
    ids = np.unique(groups)
    if len(ids) < 2 or fraction <= 0:
        return np.zeros(len(groups), bool)
    count = max(1, int(round(len(ids) * fraction)))
    return np.isin(groups, np.random.default_rng(seed).choice(ids, count, replace=False))


def _augment(x: np.ndarray, m: np.ndarray, rng: np.random.Generator, s: HeadTrainSettings):
    """Flip (and turn) each stack with its mask alike."""
    x, m = x.copy(), m.copy()
    for i in range(len(x)):
        if s.flip and rng.random() < 0.5:
            x[i], m[i] = x[i, :, :, ::-1], m[i, :, ::-1]
        if s.flip and rng.random() < 0.5:
            x[i], m[i] = x[i, :, ::-1], m[i, ::-1]
        if s.rot90:
            k = int(rng.integers(4))
            x[i], m[i] = np.rot90(x[i], k, (1, 2)), np.rot90(m[i], k)
    return x, m


def _auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    pos, neg = int(labels.sum()), int((~labels).sum())
    if not pos or not neg:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - pos * (pos + 1) / 2) / (pos * neg))


class _Heldout:
    """Held-out normal tiles, and the same tiles with fixed synthetic defects."""

    def __init__(self, data: ContextTiles, held: np.ndarray, s: HeadTrainSettings, offsets) -> None:
        idx = np.flatnonzero(held)[:: max(1, int(held.sum()) // 256)]  # at most ~256 tiles: evaluation stays cheap
        self.normal, self.masks = data.tiles[idx], data.masks[idx]
        rng = np.random.default_rng(s.seed + 1)
        self.planted, self.labels = plant_defects(self.normal, rng, mask=self.masks, offsets=offsets,
                                                  settings=s.defects)

    def evaluate(self, model: HeadModel, extra_fn: ExtraFn | None) -> dict:
        if not len(self.normal):
            return {}
        normal = model.logits(self.normal, extra_fn)[self.masks]
        planted = model.logits(self.planted, extra_fn)[self.masks]
        lab = self.labels[self.masks]
        return {"fp_rate": float((normal > 0).mean()),  # logit 0 = probability 0.5
                "synthetic_auroc": _auroc(planted, lab), "tiles": int(len(self.normal))}


def _batch(data: ContextTiles, train_idx: np.ndarray, rng: np.random.Generator, s: HeadTrainSettings,
           offsets, model: HeadModel, extra_fn: ExtraFn | None) -> tuple[torch.Tensor, torch.Tensor]:
    pick = rng.choice(train_idx, s.batch_size, replace=len(train_idx) < s.batch_size)
    x, m = _augment(data.tiles[pick], data.masks[pick], rng, s)
    x, y = plant_defects(x, rng, mask=m, offsets=offsets, share=s.defect_share, settings=s.defects)
    return model.inputs(x, extra_fn), torch.as_tensor(y[:, None], dtype=torch.float32)


def train_head(data: ContextTiles, settings: HeadTrainSettings | None = None, *,
               extra_fn: ExtraFn | None = None, extras: tuple[str, ...] = (),
               should_stop: Callable[[], bool] | None = None
               ) -> Generator[HeadProgress, None, HeadTrainResult]:
    """Train a defect head; a generator of progress whose return value is the result.

    Parameters
    ----------
    data : ContextTiles
        Normal tile stacks ``(n, C, T, T)`` with ROI masks ``(n, T, T)`` and
        volume groups (one volume is held out when there are several).
    settings : HeadTrainSettings, optional
    extra_fn : callable, optional
        Extra input maps from raw stacks: ``(n, C, T, T) -> (n, E, T, T)``,
        computed after defects are planted (e.g. a GAN's reconstruction).
    extras : tuple of str
        Names of those maps (stored with the head).
    should_stop : callable, optional
        Checked before every iteration; raises :class:`~ctreview.errors.Cancelled`.

    Yields
    ------
    HeadProgress

    Returns
    -------
    HeadTrainResult
    """
    s = settings or HeadTrainSettings()
    if len(data) == 0:
        raise CtreviewError(None, "no training tiles for the defect head")
    t0 = time.perf_counter()
    torch.manual_seed(s.seed)
    rng = np.random.default_rng(s.seed)
    offsets = tuple(data.offsets)
    held = _split(data.groups, s.holdout, s.seed)
    train_idx = np.flatnonzero(~held)
    probe_extra = 0 if extra_fn is None else np.shape(extra_fn(data.tiles[:1]))[1]
    config = HeadConfig(data.tiles.shape[1] + probe_extra, tuple(s.widths))
    model = HeadModel(DefectHead(config), _window(data.tiles[train_idx], s.percentiles), offsets, tuple(extras),
                      {"training": {**asdict(s), "train_tiles": int(len(train_idx)), "heldout_tiles": int(held.sum())}})
    heldout = _Heldout(data, held, s, offsets)
    opt = torch.optim.Adam(model.net.parameters(), lr=s.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, s.lr, total_steps=s.iterations, pct_start=0.1)
    history: list[dict] = []
    figures: dict | None = None
    for it in range(1, s.iterations + 1):
        if should_stop is not None and should_stop():
            raise Cancelled(f"head training stopped at iteration {it - 1}")
        model.net.train()
        x, y = _batch(data, train_idx, rng, s, offsets, model, extra_fn)
        losses = focal_dice_loss(model.net(x), y, s.focal_gamma, s.focal_alpha, s.dice_weight)
        opt.zero_grad(set_to_none=True)
        losses["loss"].backward()
        opt.step()
        sched.step()
        row = {"iteration": it, **{k: float(v.detach()) for k, v in losses.items()}}
        history.append(row)
        figures = heldout.evaluate(model, extra_fn) if it % s.eval_every == 0 or it == s.iterations else None
        yield HeadProgress(it, s.iterations, row, time.perf_counter() - t0, figures)
    model.net.eval()
    seconds = time.perf_counter() - t0
    model.meta["metrics"] = {"heldout": figures or {}, "seconds": round(seconds, 1)}
    return HeadTrainResult(model, history, figures or {}, seconds)


def run_to_end(gen: Generator) -> object:
    """Drive a training generator to its end and return its return value (for scripts and tests)."""
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
