"""Find models: the bundled demo models and the user's model library."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctreview.errors import CtreviewError
from ctreview.model.meta import META_FILE, ModelMeta, read_meta
from ctreview.paths import model_library_dir
from ctreview.resources import resource_path


@dataclass
class ModelInfo:
    """What a model list shows without loading weights."""

    path: Path
    name: str
    profile: str
    tile_size: int
    created: str
    bundled: bool = False
    engine: str = "anogan"
    """``"fused"`` (format 2: scorers fused, one pass) or ``"anogan"`` (format 1: modes fast/hybrid/anogan)."""
    scorers: tuple[str, ...] = ("anogan",)
    """The model's scorer families (a format-1 model is one AnoGAN)."""


def engine_of(meta: ModelMeta) -> str:
    """The engine of a model's ``model.json``: ``"fused"`` from format version 2, else ``"anogan"``."""
    try:
        return "fused" if int(meta.get("format_version", 1)) >= 2 else "anogan"
    except (TypeError, ValueError):
        return "anogan"


def scorers_of(meta: dict[str, Any]) -> tuple[str, ...]:
    """The scorer families of a model's ``model.json`` (``("anogan",)`` for a format-1 model)."""
    block = meta.get("detector")
    if not isinstance(block, dict) or not isinstance(block.get("scorers"), dict):
        return ("anogan",)
    return tuple(str(name) for name in block["scorers"])


def bundled_model_path(part: str = "transformer") -> Path:
    """Return the folder of the bundled demo model for ``part`` (``transformer``, ``capacitor``).

    Raises
    ------
    CtreviewError
        No bundled model exists for that part.
    """
    path = resource_path("models", f"demo-{part}")
    if not (path / META_FILE).is_file():
        raise CtreviewError(path, f"no bundled model for part {part!r}")
    return path


def _infos(root: Path, bundled: bool) -> list[ModelInfo]:
    infos: list[ModelInfo] = []
    if not root.is_dir():
        return infos
    for folder in sorted(p for p in root.iterdir() if (p / META_FILE).is_file()):
        try:
            meta = read_meta(folder)
        except CtreviewError:
            continue  # a broken folder in the library must not hide the others
        infos.append(ModelInfo(folder, str(meta.get("name", folder.name)), str(meta.get("profile", "")),
                               int(meta.get("tile_size", 0)), str(meta.get("created", "")), bundled,
                               engine_of(meta), scorers_of(meta)))
    return infos


def list_models() -> list[ModelInfo]:
    """Return bundled models, then the user library's (``paths.model_library_dir()``)."""
    try:
        bundled = _infos(resource_path("models"), True)
    except FileNotFoundError:
        bundled = []
    return bundled + _infos(model_library_dir(), False)
