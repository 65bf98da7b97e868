"""The model folder format: ``model.json`` plus ``weights.safetensors``.

A model is a folder::

    MODEL_DIR/model.json            format, architecture, window, profile, calibration,
                                    provenance, training settings, metrics, versions,
                                    size and SHA-256 of the weights file
    MODEL_DIR/weights.safetensors   generator.*, discriminator.*, encoder.*,
                                    calibration.<fast|search>.<mu|sd> (T, T) maps

Nothing is ever unpickled: weights are safetensors, and a file that is not
(a renamed ``.pt`` pickle, a truncated download) is refused with a
:class:`~ctreview.errors.CtreviewError` before torch sees it.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ctreview import __version__
from ctreview.errors import CtreviewError
from ctreview.model.anogan.anomaly import AnomalyModel
from ctreview.model.detector import Detector, detector_from
from ctreview.model.device import pick_device
from ctreview.model.meta import FORMAT, FORMAT_VERSION, META_FILE, WEIGHTS_FILE, ModelMeta, read_meta
from ctreview.model.nets.dcgan import NetConfig
from ctreview.timestamps import now_iso


def file_sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    return {"ctreview": __version__, "torch": torch.__version__, "numpy": np.__version__,
            "python": platform.python_version()}


def save_model(model: AnomalyModel, out: str | Path, meta: ModelMeta) -> Path:
    """Write ``model`` into the folder ``out`` (created); return the folder.

    ``meta`` is completed with the format, architecture, window and the
    weights' checksum and written as ``model.json`` last, so a folder with a
    ``model.json`` always has matching weights.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for prefix, net in (("generator", model.generator), ("discriminator", model.discriminator),
                        ("encoder", model.encoder)):
        for key, value in net.state_dict().items():
            tensors[f"{prefix}.{key}"] = value.detach().cpu().contiguous()
    for key, (mu, sd) in model.stats.items():
        tensors[f"calibration.{key}.mu"] = mu.detach().cpu().float().contiguous()
        tensors[f"calibration.{key}.sd"] = sd.detach().cpu().float().contiguous()
    model.meta = _write_folder(out, tensors, {**meta, "format_version": 1,
                                              "architecture": {"type": "dcgan-anogan", **model.config.to_dict()},
                                              "tile_size": model.tile_size, "latent_dim": model.latent_dim,
                                              "window": list(model.window)})
    return out


def save_detector(detector: Detector, out: str | Path, meta: ModelMeta) -> Path:
    """Write a format-2 model (scorers, fusion) into the folder ``out``; return the folder.

    ``weights.safetensors`` holds every scorer's tensors under its name;
    ``model.json`` (written last) describes the scorers, the fusion and its
    thresholds, the context offsets and the layout.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    full = {**meta, "format_version": FORMAT_VERSION, "detector": detector.description(),
            "profile": detector.profile, "tile_size": detector.tile_size, "layout": detector.layout}
    detector.meta = _write_folder(out, detector.tensors(), full)
    detector.meta["_dir"] = str(out)
    return out


def _write_folder(out: Path, tensors: dict[str, torch.Tensor], meta: ModelMeta) -> ModelMeta:
    """Write the weights, then ``model.json`` naming their size and checksum; return the description."""
    weights = out / WEIGHTS_FILE
    tmp = weights.with_suffix(".tmp")
    save_file(tensors, str(tmp))
    os.chmod(tmp, 0o644)  # safetensors creates 0600 files; a model folder is meant to be shared
    os.replace(tmp, weights)
    full = {k: v for k, v in meta.items() if not k.startswith("_")}
    full.update({
        "format": FORMAT,
        "weights": {"file": WEIGHTS_FILE, "bytes": weights.stat().st_size, "sha256": file_sha256(weights)},
        "versions": library_versions(),
    })
    full.setdefault("created", now_iso("seconds"))
    full.setdefault("name", out.name)
    tmp = out / (META_FILE + ".tmp")
    tmp.write_text(json.dumps(full, indent=2, sort_keys=False))
    os.replace(tmp, out / META_FILE)
    return full


def _read_weights(folder: Path, meta: ModelMeta) -> dict[str, torch.Tensor]:
    info = meta.get("weights") or {}
    weights = folder / str(info.get("file", WEIGHTS_FILE))
    if not weights.is_file():
        raise CtreviewError(weights, "model weights are missing")
    if "bytes" in info and weights.stat().st_size != int(info["bytes"]):
        raise CtreviewError(weights, f"model weights are truncated or modified "
                                     f"({weights.stat().st_size} bytes, expected {info['bytes']})")
    if "sha256" in info and file_sha256(weights) != info["sha256"]:
        raise CtreviewError(weights, "model weights do not match their checksum (corrupt or modified)")
    try:
        tensors: dict[str, torch.Tensor] = load_file(str(weights))
        return tensors
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CtreviewError(weights, f"not a valid safetensors file ({exc})") from exc


def load_model(path: str | Path, device: str | torch.device = "auto") -> Detector:
    """Load any model folder for scoring as a fused model (:class:`Detector`).

    A format-1 AnoGAN becomes a fused model with one AnoGAN scorer and the
    statistic and threshold it was calibrated with
    (:func:`~ctreview.model.format1.format1_detector`); its ``notes`` say so.

    Parameters
    ----------
    path : str or Path
        The model folder (or its ``model.json``).
    device : str or torch.device
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"mps"``.

    Raises
    ------
    CtreviewError
        Missing, truncated, foreign, pickled or wrong-version files.
    """
    from ctreview.model.anogan.format1 import format1_detector

    model = _load_folder(path, device)
    return model if isinstance(model, Detector) else format1_detector(model)


load_detector = load_model
"""The name :func:`load_model` had while two engines shared the pipeline (kept for one release)."""


def load_anogan(path: str | Path, device: str | torch.device = "auto") -> AnomalyModel:
    """Load a format-1 AnoGAN folder as it was written (for its training and calibration).

    Raises
    ------
    CtreviewError
        As :func:`load_model`, and for a folder that holds a fused model.
    """
    model = _load_folder(path, device)
    if isinstance(model, Detector):
        raise CtreviewError(Path(path), "a fused model (format 2), not a format-1 AnoGAN")
    return model


def _load_folder(path: str | Path, device: str | torch.device) -> AnomalyModel | Detector:
    """The model a folder holds, as its format describes it."""
    meta = read_meta(path)
    folder = Path(meta["_dir"])
    tensors = _read_weights(folder, meta)
    if meta["format_version"] == 2:
        try:
            return detector_from(meta, tensors, pick_device(device))
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise CtreviewError(folder / WEIGHTS_FILE, f"weights do not fit the described scorers ({exc})") from exc
    config = NetConfig(**{k: v for k, v in meta["architecture"].items() if k != "type"})
    model = AnomalyModel(config, tuple(meta["window"]), pick_device(device), meta)
    try:
        for prefix, net in (("generator", model.generator), ("discriminator", model.discriminator),
                            ("encoder", model.encoder)):
            state = {k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
            net.load_state_dict(state, strict=True)
        for key in model.stats:
            mu, sd = tensors[f"calibration.{key}.mu"], tensors[f"calibration.{key}.sd"]
            if mu.shape != (config.tile_size,) * 2 or sd.shape != mu.shape:
                raise ValueError("calibration maps have the wrong shape")
            model.stats[key] = (mu.float().to(model.device), sd.float().to(model.device))
    except (KeyError, RuntimeError, ValueError) as exc:
        raise CtreviewError(folder / WEIGHTS_FILE, f"weights do not fit the described architecture ({exc})") from exc
    model.freeze()
    return model
