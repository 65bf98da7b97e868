"""Every scoring setting and its default, declared once.

The command line builds its flags from these fields, the window scores with
them, calibration uses them, and each run stores them whole (in the
workspace and in ``summary.json``), so runs from any front end compare.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

MODES = ("hybrid", "fast", "anogan")
"""How deep the AnoGAN scorer searches (``anogan_steps`` overrides them all): ``fast``: ``z = E(x, c)``
alone (f-AnoGAN); ``hybrid``: the depth stored in the model (its default); ``anogan``: ``steps``
latent-search steps from ``E(x, c)`` (the seeds' AnoGAN)."""

DEFAULT_STEPS = {"fast": 0, "anogan": 500, "hybrid": 100}
"""Latent-search steps of each mode when ``steps`` is not given (``hybrid``: what a format-1 model's
training calibrates its search threshold with)."""


def _opt(default: Any, help: str, **extra: Any) -> Any:
    return field(default=default, metadata={"help": help, **extra})


@dataclass(frozen=True)
class ScoringSettings:
    """How a volume is scored.

    Attributes
    ----------
    mode : str
        One of :data:`MODES`: the AnoGAN scorer's search depth.
    steps : int or None
        ``anogan``: latent-search steps; None takes :data:`DEFAULT_STEPS`.
    lam : float
        Weight of AnoGAN's feature-matching term.
    batch_size : int or None
        Tiles per network batch of every scorer (a scorer that runs whole
        slices takes as many as hold that many tiles' pixels); None keeps each
        scorer's own batch.
    profile : str or None
        ROI profile; None takes the model's.
    binning : int or None
        Voxels per side averaged into one before scoring (1 = full
        resolution); None bins a scan finer than the model's training scans to
        their scale (:mod:`ctreview.scoring.binning`).
    anogan_steps : int or None
        A fused model's AnoGAN scorer: latent-search steps from ``E(x, c)``
        (0 = f-AnoGAN, the encoder alone; 500 = the seeds' AnoGAN); None keeps
        the depth stored in the model.
    """

    mode: str = _opt("hybrid", "AnoGAN scorer: fast (the encoder alone), hybrid (the model's own search "
                               "depth) or anogan (--steps latent-search steps)", choices=MODES)
    steps: int | None = _opt(None, "anogan mode: latent-search steps (default 500)", minimum=0)
    lam: float = _opt(0.1, "weight of the feature term of AnoGAN's loss", flag="--lambda",
                      minimum=0.0, maximum=1.0)
    batch_size: int | None = _opt(None, "tiles per network batch; scorers that run whole slices take as many "
                                        "slices as hold that many tiles' pixels (default: each scorer's own)",
                                  minimum=1)
    profile: str | None = _opt(None, "ROI profile (default: the model's)")
    binning: int | None = _opt(None, "average N x N x N voxels into one before scoring (1: full resolution; "
                                     "default: a scan finer than the model's training scans is binned to "
                                     "their scale)", minimum=1)
    anogan_steps: int | None = _opt(None, "AnoGAN scorer of a fused model: latent-search steps from the "
                                          "encoder's z (0: the encoder alone, f-AnoGAN; 500: the seeds' "
                                          "AnoGAN; default: the model's)", minimum=0)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            from ctreview.errors import CtreviewError

            raise CtreviewError(None, f"unknown scoring mode {self.mode!r}; use one of {', '.join(MODES)}")
        for spec in fields(self):
            value = getattr(self, spec.name)
            low, high = spec.metadata.get("minimum"), spec.metadata.get("maximum")
            if value is not None and ((low is not None and value < low) or (high is not None and value > high)):
                from ctreview.errors import CtreviewError

                bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
                raise CtreviewError(None, f"scoring setting {spec.name} must be {bounds}, not {value}")

    @property
    def search_steps(self) -> int:
        """Latent-search steps this mode runs (0 for ``fast``)."""
        if self.mode == "fast":
            return 0
        return DEFAULT_STEPS[self.mode] if self.steps is None else int(self.steps)

    @property
    def search_depth(self) -> int | None:
        """The AnoGAN scorer's depth in this run: ``anogan_steps``, else the mode's; None keeps the model's."""
        if self.anogan_steps is not None:
            return int(self.anogan_steps)
        return None if self.mode == "hybrid" else self.search_steps

    def changed(self, **changes: Any) -> ScoringSettings:
        """Return a copy with ``changes`` applied (and checked)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Every setting, plus the resolved search steps, as plain JSON values."""
        return {**asdict(self), "search_steps": self.search_steps}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoringSettings:
        """Rebuild settings stored by :meth:`to_dict` (unknown keys, such as the retired ``top_k``, are ignored)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
