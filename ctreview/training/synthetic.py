"""Generic synthetic defects planted into normal tile stacks (DRAEM's recipe, for CT).

The defect head learns "this differs from normal material here" from normal
tiles with defects that nobody listed: random shapes (ellipses, bent thin
cracks, thresholded noise blobs, clusters of small disks) with a random
appearance (brighter, darker, set to a grey level taken from the tile's own
range, or erased: filled in from the surroundings or set to air). Real
defect kinds are deliberately not copied: the test parts and their defects
come from elsewhere.

A tile stack is ``(C, T, T)``: channel 0 the centre slice, channels 1.. the
same place in context slices (see :mod:`ctreview.training.context`). A
defect may continue, weaker, into the context slices near the centre (a
defect spans a few slices); a *decoy* sits only in a context slice and
leaves the centre and its label untouched, so the head learns which slice
a defect is in.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

__all__ = ["DefectSettings", "plant_defects", "SHAPES", "LOOKS"]

SHAPES = ("ellipse", "crack", "blob", "disks")
LOOKS = ("brighter", "darker", "level", "inpaint", "air")

# ---------------------------------------------------------------- shapes
# Each returns a coverage map (T, T) in [0, 1], anti-aliased at the border.


def _centre(rng: np.random.Generator, T: int, mask: np.ndarray | None) -> np.ndarray:
    """A defect centre on the part (anywhere without a mask)."""
    if mask is None:
        return rng.uniform(0, T - 1, 2)
    ys, xs = np.nonzero(mask)
    i = int(rng.integers(len(ys)))
    return np.array([ys[i], xs[i]], float) + rng.uniform(-0.5, 0.5, 2)


def _ellipse(rng, T, c, size):
    a = size / 2
    b = max(0.75, a * rng.uniform(0.3, 1.0))
    t = rng.uniform(0, np.pi)
    yy, xx = np.mgrid[:T, :T].astype(np.float32)
    u = (xx - c[1]) * np.cos(t) + (yy - c[0]) * np.sin(t)
    v = -(xx - c[1]) * np.sin(t) + (yy - c[0]) * np.cos(t)
    r = np.sqrt((u / a) ** 2 + (v / b) ** 2)
    return np.clip((1.0 - r) * b + 0.5, 0, 1)


def _crack(rng, T, c, size):
    """A smooth random curve 1-2 px wide, up to a few times ``size`` long."""
    length = rng.uniform(max(4.0, size), max(8.0, 3.5 * size))
    n = int(length / 0.5) + 1
    turn = ndi.gaussian_filter1d(rng.normal(0, 0.25, n), 6) * rng.uniform(0.5, 3.0)
    heading = rng.uniform(0, 2 * np.pi) + np.cumsum(turn)
    pts = np.cumsum(0.5 * np.stack([np.sin(heading), np.cos(heading)], 1), 0)
    pts += c - pts[n // 2]
    yy, xx = np.mgrid[:T, :T].astype(np.float32)
    d = np.full((T, T), np.inf, np.float32)
    for p in pts:
        np.minimum(d, np.hypot(yy - p[0], xx - p[1]), out=d)
    return np.clip(rng.uniform(1.0, 2.0) / 2 - d + 0.5, 0, 1)


def _blob(rng, T, c, size):
    """A thresholded smooth noise field, kept within ``size`` of the centre."""
    field = ndi.gaussian_filter(rng.normal(size=(T, T)), rng.uniform(1.0, 3.0))
    field = (field - field.mean()) / (field.std() + 1e-12)
    yy, xx = np.mgrid[:T, :T]
    fall = ((yy - c[0]) ** 2 + (xx - c[1]) ** 2) / (size / 2) ** 2
    score = field + 1.5 * (1.0 - fall)  # about ``size`` across, with a ragged noisy border
    region = score > min(rng.uniform(0.5, 1.5), score.max() - 1e-6)
    lab, _ = ndi.label(region)
    keep = lab[int(np.clip(round(c[0]), 0, T - 1)), int(np.clip(round(c[1]), 0, T - 1))]
    region = lab == keep if keep else lab == lab.flat[np.argmax(score)]
    return region.astype(np.float32)


def _disks(rng, T, c, size):
    yy, xx = np.mgrid[:T, :T].astype(np.float32)
    out = np.zeros((T, T), np.float32)
    for _ in range(int(rng.integers(2, 7))):
        p = c + rng.uniform(-size / 2, size / 2, 2)
        r = rng.uniform(0.75, max(1.0, min(3.0, size / 3)))
        np.maximum(out, np.clip(r - np.hypot(yy - p[0], xx - p[1]) + 0.5, 0, 1), out=out)
    return out


_SHAPE_FUNCS = {"ellipse": _ellipse, "crack": _crack, "blob": _blob, "disks": _disks}


def draw_shape(kind: str, rng: np.random.Generator, T: int, size: tuple[float, float],
               mask: np.ndarray | None) -> np.ndarray:
    """Return the coverage ``(T, T)`` of one defect shape centred on the part."""
    extent = float(np.exp(rng.uniform(np.log(size[0]), np.log(size[1]))))
    return _SHAPE_FUNCS[kind](rng, T, _centre(rng, T, mask), extent).astype(np.float32)


# ---------------------------------------------------------------- looks


def noise_level(image: np.ndarray, block: int = 8) -> np.ndarray:
    """Local CT noise sd ``(T, T)``, robust to edges and fine structure.

    The median absolute difference of neighbouring pixels (x and y), per
    ``block`` x ``block`` block: a median ignores the minority of pixel pairs
    that straddle an edge, where a high-pass variance would take windings or
    foil stacks for noise. Blocks are capped to 0.5-2x the tile's median
    and interpolated smoothly.
    """
    img = np.asarray(image, np.float32)
    T0, T1 = img.shape
    dx = np.abs(np.diff(img, axis=1, append=img[:, -2:-1]))
    dy = np.abs(np.diff(img, axis=0, append=img[-2:-1]))
    py, px = -T0 % block, -T1 % block
    both = np.pad(np.stack([dx, dy]), ((0, 0), (0, py), (0, px)), mode="edge")
    ny, nx = both.shape[1] // block, both.shape[2] // block
    blocks = both.reshape(2, ny, block, nx, block).transpose(1, 3, 0, 2, 4).reshape(ny, nx, -1)
    grid = 1.4826 / np.sqrt(2) * np.median(blocks, axis=-1)
    ref = float(np.median(grid)) + 1e-6
    grid = np.clip(grid, 0.5 * ref, 2.0 * ref)
    full = ndi.zoom(grid, (both.shape[1] / ny, both.shape[2] / nx), order=1, mode="nearest")
    return np.maximum(full[:T0, :T1], 1e-6).astype(np.float32)


def draw_look(kind: str, rng: np.random.Generator) -> dict:
    """Appearance parameters shared by all channels of one defect."""
    return {"kind": kind, "amount": float(rng.uniform(0, 1)), "level": float(rng.uniform(-0.2, 1.3)),
            "grain": float(rng.uniform(0.4, 1.0))}


def _target(image: np.ndarray, alpha: np.ndarray, look: dict, sd: float) -> tuple[np.ndarray, bool]:
    """What the defect area turns into (before noise), and whether it needs fresh noise."""
    lo, hi = np.percentile(image, (1, 99))
    span = max(float(hi - lo), 3 * sd)
    kind = look["kind"]
    if kind in ("brighter", "darker"):
        # log-uniform between a faint (2 sd) and a strong (80 % of the tile's range) change
        amp = float(np.exp(np.log(2 * sd) + look["amount"] * np.log(max(1.5, 0.8 * span / (2 * sd)))))
        return image + (amp if kind == "brighter" else -amp), False
    if kind == "level":
        return np.full_like(image, lo + look["level"] * span), True
    if kind == "air":
        return np.full_like(image, np.percentile(image, 0.5)), True
    hole = alpha > 0.02  # inpaint: blur the outside in (normalised convolution)
    sigma = max(1.5, 0.35 * np.sqrt(hole.sum()))
    num = ndi.gaussian_filter(np.where(hole, 0, image), sigma)
    den = ndi.gaussian_filter((~hole).astype(np.float32), sigma)
    fill = np.where(den > 1e-3, num / np.maximum(den, 1e-3), image[~hole].mean() if (~hole).any() else lo)
    return fill.astype(np.float32), True


def apply_look(image: np.ndarray, coverage: np.ndarray, look: dict, weight: float, edge: float,
               noise: np.ndarray, mask: np.ndarray | None,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """Paste one defect into one slice ``(T, T)``.

    Returns the new slice, the pixels changed (bool) and the mean visible
    change over them in noise sd (0 when nothing changed).
    """
    alpha = ndi.gaussian_filter(coverage, edge)  # the scan's blur
    alpha = np.clip((alpha - 0.1) / 0.8, 0, 1) * weight  # zero well outside, no step at the rim
    if mask is not None:
        alpha = alpha * mask  # a defect in the air around the part is not a defect
    sd = float(np.median(noise))
    target, fresh = _target(image, alpha, look, sd)
    delta = target - ndi.gaussian_filter(image, 0.7)
    # a pixel whose change is below half a noise sd is left alone: no label where nothing shows
    alpha = np.where(np.abs(alpha * delta) >= 0.5 * noise, alpha, 0).astype(np.float32)
    changed = alpha > 0
    if not changed.any():
        return image, changed, 0.0
    if fresh:  # a pasted level is smooth: give it CT noise of the local level and grain
        # fresh draws per slice: CT noise is independent from slice to slice
        grain = ndi.gaussian_filter(rng.normal(size=image.shape), look["grain"])
        target = target + grain / (grain.std() + 1e-12) * noise
    out = np.where(changed, image + alpha * (target - image), image).astype(np.float32)
    return out, changed, float(np.mean(np.abs(alpha * delta)[changed] / noise[changed]))


@dataclass(frozen=True)
class DefectSettings:
    """How synthetic defects are drawn.

    Attributes
    ----------
    max_defects : int
        1 to this many defects per tile.
    size : (float, float)
        Range of the defect's largest extent, pixels (drawn log-uniformly: small ones matter most).
    edge_sigma : (float, float)
        Range of the Gaussian blur of the edges (the scan's sharpness), pixels.
    shapes, looks : dict of str -> float
        Relative weights of the shape and appearance kinds.
    span : float
        Chance that a defect continues, weaker, into the context slices within its depth.
    depth : (float, float)
        Range of a spanning defect's half-depth along z, slices.
    decoy : float
        Chance that a tile's defects sit only in a context slice (centre unchanged, label empty).
    min_contrast : float
        A defect whose mean visible change is below this many noise sd is redrawn.
    """

    max_defects: int = 3
    size: tuple[float, float] = (1.5, 12.0)
    edge_sigma: tuple[float, float] = (0.5, 1.5)
    shapes: tuple[tuple[str, float], ...] = (("ellipse", 0.35), ("crack", 0.2), ("blob", 0.25), ("disks", 0.2))
    looks: tuple[tuple[str, float], ...] = (("brighter", 0.2), ("darker", 0.2), ("level", 0.2),
                                            ("inpaint", 0.2), ("air", 0.2))
    span: float = 0.4
    depth: tuple[float, float] = (1.0, 8.0)
    decoy: float = 0.15
    min_contrast: float = 1.5

    def __post_init__(self) -> None:
        for name, _ in self.shapes:
            if name not in SHAPES:
                raise ValueError(f"unknown shape {name!r}; use one of {SHAPES}")
        for name, _ in self.looks:
            if name not in LOOKS:
                raise ValueError(f"unknown look {name!r}; use one of {LOOKS}")
        if not 0 < self.size[0] <= self.size[1]:
            raise ValueError("size must be a positive (low, high) range")


def _pick(rng: np.random.Generator, weighted: Sequence[tuple[str, float]]) -> str:
    names = [n for n, _ in weighted]
    w = np.array([w for _, w in weighted], float)
    return names[int(rng.choice(len(names), p=w / w.sum()))]


def _channel_weights(rng: np.random.Generator, C: int, offsets: Sequence[int] | None,
                     s: DefectSettings, decoy: bool) -> dict[int, float]:
    """Which channels a defect is drawn into, and how strongly."""
    if decoy:
        return {int(rng.integers(1, C)): 1.0}
    weights = {0: 1.0}
    if C == 1 or rng.random() >= s.span:
        return weights
    if offsets is None:  # unknown geometry: a random few context slices, weaker
        for ch in range(1, C):
            if rng.random() < 0.5:
                weights[ch] = float(rng.uniform(0.2, 0.7))
        return weights
    half = rng.uniform(*s.depth)
    for ch, off in enumerate(offsets, start=1):
        w = 1.0 - (abs(off) / half) ** 2  # an ellipsoid's cross-section fades towards its ends
        if w > 0.05:
            weights[ch] = float(w * rng.uniform(0.5, 1.0))
    return weights


def _plant_one(stack: np.ndarray, mask: np.ndarray | None, rng: np.random.Generator,
               offsets: Sequence[int] | None, s: DefectSettings) -> tuple[np.ndarray, np.ndarray]:
    C, T, _ = stack.shape
    out = stack.copy()
    label = np.zeros((T, T), bool)
    masks = [None if mask is None else (mask[c] if mask.ndim == 3 else mask) for c in range(C)]
    if masks[0] is not None and not masks[0].any():
        return out, label  # no part in this tile: nothing may change
    noise = {}
    decoy = C > 1 and rng.random() < s.decoy
    for _ in range(int(rng.integers(1, s.max_defects + 1))):
        weights = _channel_weights(rng, C, offsets, s, decoy)
        edge = float(rng.uniform(*s.edge_sigma))
        for _try in range(3):
            coverage = draw_shape(_pick(rng, s.shapes), rng, T, s.size, masks[0])
            look = draw_look(_pick(rng, s.looks), rng)
            trial = {}
            for ch, w in weights.items():
                if ch not in noise:
                    noise[ch] = noise_level(out[ch])
                trial[ch] = apply_look(out[ch], coverage, look, w, edge, noise[ch], masks[ch], rng)
            ref = min(weights)  # the centre, or the decoy's slice
            if trial[ref][2] >= s.min_contrast:
                break
        else:
            continue  # three invisible tries (e.g. air set to air): leave this defect out
        for ch, (image, changed, _) in trial.items():
            out[ch] = image
            if ch == 0:
                label |= changed
    return out, label


def plant_defects(tiles: np.ndarray, rng: np.random.Generator, *, mask: np.ndarray | None = None,
                  offsets: Sequence[int] | None = None, share: float = 1.0,
                  settings: DefectSettings | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Plant synthetic defects into normal tile stacks.

    Parameters
    ----------
    tiles : ndarray, shape (n, C, T, T) or (C, T, T)
        Normal tiles, any real dtype (computed in float32). Channel 0 is the
        centre slice, channels 1.. its context slices.
    rng : numpy.random.Generator
        All random draws; the same seed gives the same output.
    mask : ndarray of bool, shape (n, T, T), (n, C, T, T) or without n, optional
        Where the part (or ROI) is; only pixels inside it are changed.
        A ``(n, T, T)`` mask applies to every channel.
    offsets : sequence of int, optional
        Context offsets (slices) of channels 1..; spanning defects then
        reach the context slices within their depth. Without offsets a
        spanning defect goes into a random few context slices.
    share : float
        Chance that a tile gets defects; the others come back unchanged.
    settings : DefectSettings, optional

    Returns
    -------
    tiles : ndarray, shape like the input, float32
    labels : ndarray of bool, shape (n, T, T) (or (T, T))
        The centre-slice pixels the defects changed: every changed centre
        pixel is in it. Empty for unchanged tiles and decoys.
    """
    s = settings or DefectSettings()
    x = np.asarray(tiles, np.float32)
    single = x.ndim == 3
    if single:
        x = x[None]
        mask = None if mask is None else np.asarray(mask, bool)[None]
    if x.ndim != 4 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"expected tiles (n, C, T, T), got shape {np.shape(tiles)}")
    if offsets is not None and len(offsets) != x.shape[1] - 1:
        raise ValueError(f"{len(offsets)} offsets for {x.shape[1] - 1} context channels")
    if mask is not None:
        mask = np.asarray(mask, bool)
        if mask.shape[0] != x.shape[0] or mask.shape[-2:] != x.shape[-2:]:
            raise ValueError(f"mask shape {mask.shape} does not match tiles {x.shape}")
    out = x.copy()
    labels = np.zeros((x.shape[0],) + x.shape[-2:], bool)
    for i in range(x.shape[0]):
        if rng.random() < share:
            out[i], labels[i] = _plant_one(x[i], None if mask is None else mask[i], rng, offsets, s)
    return (out[0], labels[0]) if single else (out, labels)
