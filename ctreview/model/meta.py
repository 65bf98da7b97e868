"""Read and check ``model.json`` without torch, so listing models stays cheap.

The GUI's model picker reads every model's description at start-up; this
module lets it do so without paying for importing torch on the UI thread.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, TypeAlias

from ctreview.errors import CtreviewError
from ctreview.model.config import NetConfig
from ctreview.paths import refuse_existing

FORMAT = "ctreview-model"
FORMAT_VERSION = 2
"""Format 2: fused scorer families (:mod:`ctreview.model.detector`); format 1: one AnoGAN."""
READABLE_VERSIONS = (1, 2)
META_FILE = "model.json"
WEIGHTS_FILE = "weights.safetensors"
_PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".bin")

ModelMeta: TypeAlias = dict[str, Any]
"""A model's ``model.json`` as read: a JSON object (:func:`read_meta` adds ``_dir``, the folder)."""


def _model_dir(path: Path) -> Path:
    if path.is_dir():
        return path
    if path.is_file():
        if path.name == META_FILE:
            return path.parent
        if path.suffix.lower() in _PICKLE_SUFFIXES:
            raise CtreviewError(path, "looks like a pickled PyTorch file; ctreview never unpickles files. "
                                      "A ctreview model is a folder with model.json and weights.safetensors")
        raise CtreviewError(path, "not a ctreview model: expected a folder with model.json")
    raise CtreviewError(path, "model not found")


def read_meta(path: str | Path) -> ModelMeta:
    """Read and check ``model.json`` of a model folder; return it.

    Raises
    ------
    CtreviewError
        Missing, unreadable, foreign or of another format version.
    """
    folder = _model_dir(Path(path))
    meta_path = folder / META_FILE
    if not meta_path.is_file():
        raise CtreviewError(folder, f"not a ctreview model: {META_FILE} is missing")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CtreviewError(meta_path, f"unreadable model description ({exc.__class__.__name__})") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CtreviewError(meta_path, "not a ctreview model description")
    version = meta.get("format_version")
    if version not in READABLE_VERSIONS:
        raise CtreviewError(meta_path, f"model format version {version!r} is not supported "
                                       f"(this ctreview reads versions {', '.join(map(str, READABLE_VERSIONS))})")
    (_check_v1 if version == 1 else _check_v2)(meta, meta_path)
    meta["_dir"] = str(folder)
    return meta


def _check_v1(meta: ModelMeta, meta_path: Path) -> None:
    try:
        NetConfig(**{k: v for k, v in meta["architecture"].items() if k != "type"})
        lo, hi = (float(v) for v in meta["window"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CtreviewError(meta_path, f"model description is incomplete or invalid ({exc})") from exc
    if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
        raise CtreviewError(meta_path, "model description has an invalid intensity window")


def _check_v2(meta: ModelMeta, meta_path: Path) -> None:
    block = meta.get("detector")
    scorers = block.get("scorers") if isinstance(block, dict) else None
    fusion = block.get("fusion") if isinstance(block, dict) else None
    if not isinstance(scorers, dict) or not scorers or not isinstance(fusion, dict):
        raise CtreviewError(meta_path, "model description is incomplete: no scorers or fusion")
    threshold = fusion.get("threshold")
    if not isinstance(threshold, (int, float)) or not math.isfinite(threshold) or threshold <= 0:
        raise CtreviewError(meta_path, "model description has an invalid fused threshold")


def read_fingerprint(meta: ModelMeta) -> dict[str, Any] | None:
    """Return the domain fingerprint of a model's ``model.json`` (see :mod:`ctreview.model.domain`).

    None for models without one (older models) or with one of a version or
    shape this ctreview does not read: they are then never flagged for it.
    Version-1 fingerprints (before the calibrated one) are read as they are.
    """
    from ctreview.model.domain import READABLE_VERSIONS

    domain = meta.get("domain") if isinstance(meta, dict) else None
    if not isinstance(domain, dict) or domain.get("version") not in READABLE_VERSIONS:
        return None
    needs = ({"intensity": ("median", "min", "max")} if domain["version"] == 1 else
             {"intensity": ("window", "min", "max", "tolerance"), "size": ("keys", "min", "max", "tolerance")})
    for key, lists in needs.items():
        block = domain.get(key)
        if block is not None and not (isinstance(block, dict) and all(isinstance(block.get(k), list)
                                                                       for k in lists)):
            return None
    return domain


def refuse_overwrite(out: str | Path, *, resume: bool = False, force: bool = False) -> None:
    """Raise :class:`CtreviewError` when ``out`` already holds a model (``model.json``, weights).

    Training calls it before reading anything, the command line before
    importing torch; ``resume`` (continue a checkpoint) or ``force`` allow it.
    """
    refuse_existing(out, (META_FILE, WEIGHTS_FILE), force=resume or force, what="already holds a model ({found})",
                    advice="choose another output folder, or replace it with --force (the old model is lost)")
