"""Write a set of phantoms to disk: volumes, defect masks and ``labels.json``."""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ctreview.errors import Cancelled, CtreviewError
from ctreview.phantom.phantom import PARTS, make_phantom, make_twin

_KIND_CODE = {"normal": 0, "defect": 1}
TWIN_DIR = "twins"
"""Subfolder of a phantom set that holds the defect-free twins."""


def phantom_seed(seed: int, kind: str, index: int) -> int:
    """Return the seed of volume ``index`` of a set: the same whatever the set's size."""
    state = np.random.SeedSequence([int(seed), _KIND_CODE[kind], int(index)]).generate_state(2)
    return int(state[0]) << 32 | int(state[1])


def _write_tiff(path: Path, array: np.ndarray, spacing: Sequence[float]) -> None:
    try:
        from ctreview.io import write_tiff
    except ImportError:  # ctreview.io is written in parallel; keep the phantoms usable without it
        import tifffile

        path.parent.mkdir(parents=True, exist_ok=True)
        tifffile.imwrite(path, array, imagej=True, resolution=(1 / spacing[2], 1 / spacing[1]),
                         metadata={"axes": "ZYX", "spacing": spacing[0], "unit": "mm"})
        return
    write_tiff(path, array, spacing)


def write_phantom_set(out: str | Path, *, part: str, normal: int, defective: int, seed: int,
                      size: int = 128, slices: int = 64, twins: bool = False,
                      progress: Callable[[int, int], None] | None = None,
                      should_stop: Callable[[], bool] | None = None) -> list[Path]:
    """Simulate and write ``normal`` + ``defective`` volumes of one part.

    Writes ``OUT/<part>_normal_000.tif`` ..., ``OUT/<part>_defect_000.tif`` ...
    (multi-page uint16 TIFF with the voxel spacing), ``OUT/masks/<stem>_defects.tif``
    (uint8 defect labels, one per volume) and ``OUT/labels.json``
    ``{stem: {"part", "defective", "slices": [0/1 per slice], "defects", "angle_deg", "tilt_deg"}}``;
    an existing ``labels.json`` is extended. With ``twins``, each defective
    volume also gets its defect-free twin (:func:`~ctreview.phantom.make_twin`)
    in ``OUT/twins/<stem>.tif`` and its labels entry gains
    ``"twin": "twins/<stem>.tif"``; the subfolder keeps twins out of training
    sets read from ``OUT``.

    Parameters
    ----------
    out : str or Path
        Output folder (created).
    part : {"transformer", "capacitor"}
    normal, defective : int
        Number of volumes of each kind.
    seed : int
        Volume ``i`` of a kind uses :func:`phantom_seed` (seed, kind, i).
    size, slices : int
        Volume shape (slices, size, size).
    twins : bool
        Also write the defect-free twin of each defective volume. The
        volumes themselves are the same with or without twins.
    progress : callable(done, total), optional
    should_stop : callable() -> bool, optional
        Checked before each volume; raises :class:`~ctreview.errors.Cancelled`.

    Returns
    -------
    list of Path
        The volume files, normal first.
    """
    if part not in PARTS:
        raise CtreviewError(None, f"unknown part {part!r}; choose one of {', '.join(PARTS)}")
    if normal < 0 or defective < 0:
        raise CtreviewError(None, "the number of volumes cannot be negative")
    out = Path(out)
    labels_path = out / "labels.json"
    labels = _read_labels(labels_path)
    jobs = [("normal", i) for i in range(normal)] + [("defect", i) for i in range(defective)]
    written = []
    for done, (kind, i) in enumerate(jobs):
        if should_stop is not None and should_stop():
            raise Cancelled()
        volume_seed = phantom_seed(seed, kind, i)
        ph = make_phantom(part, size=size, slices=slices, defective=kind == "defect",
                          seed=volume_seed)
        stem = f"{part}_{kind}_{i:03d}"
        _write_tiff(out / f"{stem}.tif", ph.volume, ph.spacing)
        _write_tiff(out / "masks" / f"{stem}_defects.tif", ph.defect_mask, ph.spacing)
        labels[stem] = {"part": part, "defective": kind == "defect",
                        "slices": [int(v) for v in ph.slice_labels], "defects": ph.defects,
                        "angle_deg": ph.angle_deg, "tilt_deg": ph.tilt_deg}
        if twins and kind == "defect":
            twin = make_twin(part, size=size, slices=slices, seed=volume_seed)
            _write_tiff(out / TWIN_DIR / f"{stem}.tif", twin.volume, twin.spacing)
            labels[stem]["twin"] = f"{TWIN_DIR}/{stem}.tif"
        written.append(out / f"{stem}.tif")
        if progress is not None:
            progress(done + 1, len(jobs))
    labels_path.write_text(json.dumps(labels, indent=1), encoding="utf-8")
    return written


def _read_labels(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        labels = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CtreviewError(path, f"cannot read the existing labels file: {exc}") from exc
    if not isinstance(labels, dict):
        raise CtreviewError(path, "the existing labels file is not a JSON object")
    return labels
