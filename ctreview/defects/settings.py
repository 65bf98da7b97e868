"""How heatmaps become defect objects: every level and size, declared once."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any


def _opt(default: Any, help: str, **extra: Any) -> Any:
    return field(default=default, metadata={"help": help, **extra})


@dataclass(frozen=True)
class DefectSettings:
    """Levels and sizes of the hysteresis labelling of a relative heatmap (1.0 = threshold).

    Attributes
    ----------
    seed : float
        A defect holds at least one voxel at or above this relative score.
    grow : float
        A defect is grown from its seeds through voxels at or above this level
        (26-connected); at most ``seed``.
    min_voxels : int
        Objects of fewer voxels are dropped (noise specks of the heatmap).
    """

    seed: float = _opt(1.0, "a defect holds a voxel at or above this relative score", minimum=0.0)
    grow: float = _opt(0.5, "defects grow through voxels at or above this relative score", minimum=0.0)
    min_voxels: int = _opt(8, "objects smaller than this many voxels are dropped", minimum=1)

    def __post_init__(self) -> None:
        from ctreview.errors import CtreviewError

        for spec in fields(self):
            value, low = getattr(self, spec.name), spec.metadata.get("minimum")
            if low is not None and not value >= low:  # also refuses NaN
                raise CtreviewError(None, f"defect setting {spec.name} must be >= {low}, not {value}")
        if self.grow > self.seed:
            raise CtreviewError(None, f"defect setting grow ({self.grow}) must not exceed seed ({self.seed})")

    def changed(self, **changes: Any) -> DefectSettings:
        """Return a copy with ``changes`` applied (and checked)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Every setting as plain JSON values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DefectSettings:
        """Rebuild settings stored by :meth:`to_dict` (unknown keys are ignored)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
