"""Component profiles: the known geometry of a part type, in TOML.

A profile names the part and its regions of interest in part-relative
coordinates, and how the model tiles them::

    name = "transformer"
    part = "transformer"
    description = "..."
    [tiles]
    size = 64          # tile edge in pixels (native resolution, never resized)
    stride = 48        # step between tiles; < size means overlap
    [augment]
    flip = true
    rot90 = false
    [[regions]]
    name = "windings"
    z = [0.25, 1.0]    # fractions of the part height, 0 = bottom slice of the part
    shape = "ring"     # "cross-section" | "box" | "ring"
    inner = 0.15       # ring radii, fractions of the part's mean in-plane half-extent
    outer = 1.0
    [[regions]]
    name = "board"
    z = [0.0, 0.4]
    shape = "box"
    box = [-1.0, -1.0, 1.0, 1.0]   # (v0, u0, v1, u1): fractions of the half-extents along
                                   # the part's minor (v) and major (u) axes
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

from ctreview.errors import CtreviewError
from ctreview.resources import resource_path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SHAPES = ("cross-section", "box", "ring", "image")
"""``image`` is the whole image (no segmentation): for images with no air around the part."""


@dataclass
class Region:
    """One region of interest in part-relative coordinates (see the module docstring)."""

    name: str
    z: tuple[float, float] = (0.0, 1.0)
    shape: str = "cross-section"
    box: tuple[float, float, float, float] = (-1.0, -1.0, 1.0, 1.0)
    inner: float = 0.0
    outer: float = 1.0


@dataclass
class Profile:
    """A component profile: part type, regions, tiling and allowed augmentation."""

    name: str
    part: str = "any"
    regions: list[Region] = field(default_factory=lambda: [Region("part")])
    tile_size: int = 64
    stride: int = 48
    augment: dict[str, bool] = field(default_factory=lambda: {"flip": True, "rot90": True})
    description: str = ""
    path: Path | None = None

    @property
    def whole_image(self) -> bool:
        """Whether the profile scores whole images, without finding a part first."""
        return all(r.shape == "image" for r in self.regions)


ProfileSpec: TypeAlias = str | Path | Profile
"""A profile, its bundled name (``"transformer"``) or the path of its ``.toml`` (see :func:`load_profile`)."""


def list_profiles() -> list[str]:
    """Return the names of the bundled profiles."""
    return sorted(p.stem for p in resource_path("profiles").glob("*.toml"))


def load_profile(spec: ProfileSpec) -> Profile:
    """Load a profile by bundled name (``"transformer"``) or from a ``.toml`` path.

    Raises
    ------
    CtreviewError
        Unknown name, unreadable or broken TOML, or a bad field (named in the message).
    """
    if isinstance(spec, Profile):
        return spec
    text = str(spec)
    if text == "auto":
        raise CtreviewError(None, "profile 'auto' is chosen by extract_roi from the part's shape")
    path = Path(text)
    if path.suffix.lower() != ".toml" and not path.is_file():
        path = resource_path("profiles", f"{text}.toml")
        if not path.is_file():
            raise CtreviewError(text, f"unknown profile; bundled profiles: {', '.join(list_profiles())}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CtreviewError(path, "profile file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CtreviewError(path, f"cannot read profile: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CtreviewError(path, f"broken TOML: {exc}") from exc
    return parse_profile(data, path)


def _number(value: Any, where: str, path: str | Path | None, lo: float, hi: float, integer: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or (integer and not isinstance(value, int)) or not lo <= value <= hi:
        kind = "an integer" if integer else "a number"
        raise CtreviewError(path, f"field '{where}' must be {kind} in [{lo}, {hi}], got {value!r}")
    return float(value)


def _integer(value: Any, where: str, path: str | Path | None, lo: int, hi: int) -> int:
    _number(value, where, path, lo, hi, integer=True)
    return int(value)


def _pair(value: Any, where: str, path: str | Path | None, n: int) -> tuple[float, ...]:
    if not isinstance(value, list) or len(value) != n:
        raise CtreviewError(path, f"field '{where}' must be a list of {n} numbers, got {value!r}")
    return tuple(float(_number(v, where, path, -10.0, 10.0)) for v in value)


def _region(data: Any, i: int, path: str | Path | None) -> Region:
    where = f"regions[{i}]"
    if not isinstance(data, dict):
        raise CtreviewError(path, f"field '{where}' must be a table")
    shape = data.get("shape", "cross-section")
    if shape not in SHAPES:
        raise CtreviewError(path, f"field '{where}.shape' must be one of {', '.join(SHAPES)}, got {shape!r}")
    z = _pair(data.get("z", [0.0, 1.0]), f"{where}.z", path, 2)
    if not 0.0 <= z[0] < z[1] <= 1.0:
        raise CtreviewError(path, f"field '{where}.z' must be [z0, z1] with 0 <= z0 < z1 <= 1, got {list(z)}")
    box = _pair(data.get("box", [-1.0, -1.0, 1.0, 1.0]), f"{where}.box", path, 4)
    if not (box[0] < box[2] and box[1] < box[3]):
        raise CtreviewError(path, f"field '{where}.box' must be [v0, u0, v1, u1] with v0 < v1 and u0 < u1")
    inner = float(_number(data.get("inner", 0.0), f"{where}.inner", path, 0.0, 10.0))
    outer = float(_number(data.get("outer", 1.0), f"{where}.outer", path, 0.0, 10.0))
    if inner >= outer:
        raise CtreviewError(path, f"field '{where}.inner' must be smaller than '{where}.outer'")
    return Region(str(data.get("name", f"region{i}")), (z[0], z[1]), shape, (box[0], box[1], box[2], box[3]),
                  inner, outer)


def parse_profile(data: dict[str, Any], path: str | Path | None = None) -> Profile:
    """Validate a parsed TOML document and build a :class:`Profile`."""
    name = data.get("name", Path(path).stem if path else None)
    if not isinstance(name, str) or not name:
        raise CtreviewError(path, "field 'name' must be a non-empty string")
    tiles = data.get("tiles", {})
    augment = data.get("augment", {"flip": True, "rot90": True})
    if not isinstance(tiles, dict):
        raise CtreviewError(path, "field 'tiles' must be a table")
    if not isinstance(augment, dict) or not all(isinstance(v, bool) for v in augment.values()):
        raise CtreviewError(path, "field 'augment' must be a table of true/false values")
    size = _integer(tiles.get("size", 64), "tiles.size", path, 8, 1024)
    stride = _integer(tiles.get("stride", max(1, size * 3 // 4)), "tiles.stride", path, 1, size)
    regions = data.get("regions", [{"name": "part"}])
    if not isinstance(regions, list) or not regions:
        raise CtreviewError(path, "field 'regions' must be a non-empty list of tables")
    return Profile(name=name, part=str(data.get("part", "any")),
                   regions=[_region(r, i, path) for i, r in enumerate(regions)],
                   tile_size=size, stride=stride, augment=dict(augment),
                   description=str(data.get("description", "")),
                   path=Path(path) if path else None)
