"""PaDiM (Defard et al., "PaDiM: a patch distribution modeling framework", ICPR 2021).

One multivariate Gaussian of the patch features per grid position, fitted
on aligned normal images of one size; a patch is as anomalous as its
Mahalanobis distance from its position's Gaussian. Where parts are
aligned (a fixture, a registered scan) this uses where a patch is, which
PatchCore ignores; where they are not, it blurs every position's model.
Masks are not needed to fit (every position has its own Gaussian).
"""
from __future__ import annotations

import torch

from ctreview.errors import CtreviewError
from ctreview.model.features.model import FeatureModel


class Padim(FeatureModel):
    """Per-position Gaussians of patch features.

    Attributes
    ----------
    mean : Tensor, shape (h * w, d)
    inv_cov : Tensor, shape (h * w, d, d)
        Inverse of each position's covariance plus ``ridge`` times identity.
    grid : tuple of int
        (h, w): the feature grid every image must have.
    """

    kind = "padim"

    def __init__(self, settings=None, *, backbone=None) -> None:
        super().__init__(settings, backbone=backbone)
        self.mean = torch.empty(0)
        self.inv_cov = torch.empty(0)
        self.grid: tuple[int, int] = (0, 0)

    def _fit(self, feats, cells, positions) -> None:
        grids = {tuple(f.shape[-2:]) for f in feats}
        if len(grids) != 1:
            raise CtreviewError(None, "PaDiM needs aligned images of one size; "
                                      "use PatchCore for images of several sizes or poses")
        if len(feats) < 2:
            raise CtreviewError(None, "PaDiM needs at least 2 normal images")
        self.grid = grids.pop()
        x = torch.stack(feats).flatten(2).permute(2, 0, 1).double()  # (h w, n, d)
        self.mean = x.mean(1)
        xc = x - self.mean[:, None]
        cov = xc.transpose(1, 2) @ xc / (x.shape[1] - 1)
        cov += self.settings.ridge * torch.eye(x.shape[2], dtype=cov.dtype)
        self.inv_cov = torch.linalg.inv(cov).float()
        self.mean = self.mean.float()

    def _distances(self, feats, positions) -> torch.Tensor:
        b, _, h, w = feats.shape
        if (h, w) != self.grid:
            raise CtreviewError(None, f"PaDiM was fitted on a {self.grid[0]}x{self.grid[1]} feature grid; "
                                      f"this image gives {h}x{w} (images must have the fitted size)")
        delta = feats.flatten(2).permute(2, 0, 1) - self.mean[:, None]  # (h w, b, d)
        m2 = ((delta @ self.inv_cov) * delta).sum(2)  # (h w, b)
        return m2.clamp_min(0.0).sqrt().T.reshape(b, h, w)

    def state_dict(self) -> dict[str, torch.Tensor]:
        state = {"mean": self.mean, "inv_cov": self.inv_cov, "grid": torch.tensor(self.grid)}
        if self.features.projection is not None:
            state["projection"] = self.features.projection
        return state

    def load_state(self, state, config) -> None:
        try:
            mean, inv_cov, sides = state["mean"], state["inv_cov"], [int(v) for v in state["grid"]]
        except KeyError as exc:
            raise CtreviewError(None, f"PaDiM state lacks {exc.args[0]}") from exc
        d = config.get("dim")
        if len(sides) != 2 or mean.shape != (sides[0] * sides[1], d) or inv_cov.shape != (mean.shape[0], d, d):
            raise CtreviewError(None, "PaDiM state does not match its grid and feature size")
        self.mean, self.inv_cov, self.dim = mean.float(), inv_cov.float(), int(d)
        self.grid = (sides[0], sides[1])
        if "projection" in state:
            self.features.projection = state["projection"].float()
