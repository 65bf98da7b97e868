"""One working scale for training and scoring, bounded memory, and nothing half made when training stops."""
from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pytest
import tifffile
from helpers_model import drain, tiny_detector_settings

from ctreview.cli import main
from ctreview.errors import Cancelled, CtreviewError
from ctreview.io import open_volume
from ctreview.model import load_model, read_meta
from ctreview.model.features.reservoir import Reservoir
from ctreview.roi import extract_roi
from ctreview.roi.scale import WorkingScale, choice_for, part_side, reference_choice, z_factor
from ctreview.scoring import score_volume
from ctreview.training.detector_train import iter_train_detector
from ctreview.training.memory import MIN_BUDGET, parse_size, within_budget
from ctreview.training.normal_data import gather_volumes


def _twice(arr: np.ndarray) -> np.ndarray:
    return np.repeat(np.repeat(np.repeat(arr, 2, axis=0), 2, axis=1), 2, axis=2)


@pytest.fixture(scope="module")
def fine(tiny_data, tmp_path_factory):
    """The tiny phantoms at twice the resolution on every axis (48 x 192 x 192): normal ones in a set folder."""
    out = tmp_path_factory.mktemp("fine")
    (out / "normal").mkdir()
    for path in sorted(tiny_data.glob("transformer_*.tif")):
        arr = open_volume(path).read(0, None)
        where = out / ("normal" if "normal" in path.name else ".") / path.name
        tifffile.imwrite(where, _twice(arr))
    return out


@pytest.fixture(scope="module")
def side(tiny_data) -> float:
    """The tiny phantom's part side at its own resolution (the working size the fine model is trained at)."""
    volume = open_volume(sorted(tiny_data.glob("transformer_normal_*.tif"))[0])
    return part_side(extract_roi(volume, "whole-part", tile_size=32))


@pytest.fixture(scope="module")
def trained(fine, side, tmp_path_factory):
    """A tiny model trained on the fine normal scans, with a working size that bins them 2 x 2 x 2."""
    out = tmp_path_factory.mktemp("scale-model") / "model"
    settings = replace(tiny_detector_settings(), max_side=int(side) + 1)
    events: list = []
    drain_events = iter_train_detector(fine / "normal", out, settings, profile="whole-part", device="cpu")
    while True:
        try:
            events.append(next(drain_events))
        except StopIteration:
            break
    return out, events


def test_the_reference_scan_is_binned_until_its_part_fits_and_z_keeps_the_voxel_shape(tiny_data):
    volume = open_volume(sorted(tiny_data.glob("transformer_normal_*.tif"))[0])
    roi = extract_roi(volume, "whole-part", tile_size=32)
    s = part_side(roi)
    assert reference_choice(volume, roi, max_side=int(s)).factors == (1, 1)
    choice = reference_choice(volume, roi, max_side=int(np.ceil(s / 3)))
    assert choice.factors == (3, 3) and choice.line().startswith("scale: binned 3x3x3 (part ")
    assert reference_choice(volume, roi, 192, forced=2).factors == (2, 2)
    # thick slices bin fewer along z; thin ones more; never below one
    assert z_factor(4, (2.0, 1.0, 1.0)) == 2 and z_factor(2, (0.5, 1.0, 1.0)) == 4 and z_factor(1, (4.0, 1, 1)) == 1


def test_a_scan_is_brought_to_the_working_voxel_size_when_both_state_one(tiny_data):
    volume = open_volume(sorted(tiny_data.glob("transformer_normal_*.tif"))[0])
    roi = extract_roi(volume, "whole-part", tile_size=32)
    scale = WorkingScale(part_side(roi) / 3, tuple(3.0 * s for s in volume.spacing), 64)
    by_size = choice_for(volume, roi, replace(scale, voxel=None))
    assert by_size.factors == (3, 3) and "the model works at" in by_size.reason
    at_scale = WorkingScale(part_side(roi), None, 256)
    assert choice_for(volume, roi, at_scale).factors == (1, 1)  # a scan at the training scale is not binned


def test_training_bins_to_the_working_scale_stores_it_and_says_so(trained, side):
    out, events = trained
    meta = read_meta(out)
    assert meta["scale"]["part_side"] == pytest.approx(side, abs=1.0)
    assert meta["scale"]["line"].startswith("scale: binned 2x2x2")
    notes = [e.note for e in events if e.note]
    assert notes == [meta["scale"]["line"]]
    # every long stage reports done of total, counting up to its total
    for phase in ("features", "head", "calibrate"):
        steps = [(e.iteration, e.iterations) for e in events if e.phase == phase]
        assert steps and steps[-1][0] == steps[-1][1] and all(a <= b for a, b in steps)


def test_the_same_scan_binned_by_hand_and_not_binned_scores_alike(trained, fine, tiny_data):
    model = load_model(trained[0], "cpu")
    full, full_summary = drain(score_volume(open_volume(fine / "transformer_defect_000.tif"), model))
    coarse, coarse_summary = drain(score_volume(open_volume(tiny_data / "transformer_defect_000.tif"), model))
    assert full_summary.volume["binning"] == [2, 2, 2] and coarse_summary.volume["binning"] == [1, 1, 1]
    assert full_summary.volume["scale"].startswith("scale: binned 2x2x2")
    by_index = {r.index: r.relative for r in coarse}
    pairs = [(r.relative, by_index[r.index // 2]) for r in full if r.index // 2 in by_index]
    assert len(pairs) >= 0.8 * len(full)
    assert np.allclose(*zip(*pairs), rtol=1e-4)


def test_score_prints_the_scale_it_chose(trained, fine, tmp_path, capsys):
    assert main(["score", str(fine / "transformer_defect_000.tif"), "--model", str(trained[0]),
                 "--out", str(tmp_path / "run")]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("scale: ")]
    assert len(lines) == 1 and lines[0].startswith("scale: binned 2x2x2 (part ")


def test_a_large_scan_trains_a_few_slices_at_a_time_with_a_bounded_patch_sample(fine, side, tmp_path):
    volume = open_volume(fine / "normal" / "transformer_normal_000.tif")
    spans: list[int] = []
    read = volume.read

    def counting(z0=0, z1=None):
        z1 = volume.shape[0] if z1 is None else z1
        spans.append(z1 - z0)
        return read(z0, z1)

    volume.read = counting  # type: ignore[method-assign]
    base = replace(tiny_detector_settings(), max_side=int(side) + 1, holdout=0.5)
    settings = replace(base, features=replace(base.features, max_patches=300))
    out = tmp_path / "model"
    from ctreview.progress import drain as run

    run(iter_train_detector(volume, out, settings, profile="whole-part", device="cpu", force=True))
    assert spans and max(spans) <= 2  # never the whole volume: a binned slice's block at most
    features = load_model(out, "cpu").scorers["features"].model
    assert 0 < features.bank.shape[0] <= 0.2 * 300 + 1


def test_an_interrupted_training_leaves_no_model_that_score_would_accept(fine, tmp_path):
    out = tmp_path / "model"
    stream = iter_train_detector(fine / "normal", out, tiny_detector_settings(), profile="whole-part", device="cpu")
    for event in stream:
        if event.phase == "head":
            stream.close()  # what Ctrl+C or a cancel in the window does to the generator
            break
    assert not out.exists() or not (out / "model.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # the hidden work folder is gone
    with pytest.raises(CtreviewError):
        read_meta(out)
    stopped = iter_train_detector(fine / "normal", out, tiny_detector_settings(), profile="whole-part",
                                  device="cpu", should_stop=lambda: True)
    with pytest.raises(Cancelled):
        for _ in stopped:
            pass
    assert not (out / "model.json").exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_retraining_with_force_keeps_the_old_model_until_the_new_one_is_whole(trained, fine, tmp_path):
    import shutil

    out = tmp_path / "model"
    shutil.copytree(trained[0], out)
    (out / "notes.txt").write_text("mine")
    before = (out / "model.json").read_bytes()
    stream = iter_train_detector(fine / "normal", out, tiny_detector_settings(), profile="whole-part",
                                 device="cpu", force=True)
    for event in stream:
        if event.phase == "head":
            stream.close()
            break
    assert (out / "model.json").read_bytes() == before and (out / "notes.txt").read_text() == "mine"


def test_the_reservoir_keeps_every_row_below_its_limit_and_a_uniform_sample_above():
    small = Reservoir(100, seed=1)
    rows = torch_rows(60)
    small.add(rows[:25])
    small.add(rows[25:])
    assert small.rows().tolist() == rows.tolist() and small.seen == 60
    big = Reservoir(500, seed=1)
    for start in range(0, 20000, 700):
        chunk = torch_rows(20000)[start:start + 700]
        big.add(chunk, chunk[:, 0].clone())
    kept = big.rows()[:, 0].numpy()
    assert len(kept) == 500 and big.seen == 20000 and len(np.unique(kept)) == 500
    assert 8000 < kept.mean() < 12000  # the late rows are as likely to stay as the early ones
    assert np.array_equal(big.values().numpy(), kept)


def torch_rows(n: int):
    import torch

    return torch.arange(n, dtype=torch.float32)[:, None].repeat(1, 3)


def test_a_memory_budget_bounds_the_samples_and_a_tiny_one_is_refused():
    assert parse_size("1.5G") == int(1.5 * 2**30) and parse_size("800M") == 800 * 2**20 and parse_size("2GB") == 2**31
    with pytest.raises(CtreviewError):
        parse_size("lots")
    settings = within_budget(tiny_detector_settings(), MIN_BUDGET)
    assert settings.features.max_patches <= MIN_BUDGET // 4 // 256 and settings.head.max_tiles < 4096
    assert settings.anogan.max_tiles == min(tiny_detector_settings().anogan.max_tiles, settings.head.max_tiles)
    with pytest.raises(CtreviewError, match="cannot hold a training run"):
        within_budget(tiny_detector_settings(), MIN_BUDGET // 2)


def test_a_folder_of_slices_warns_once_not_once_per_slice(tmp_path, caplog):
    rng = np.random.default_rng(0)
    folder = tmp_path / "slices"
    folder.mkdir()
    for k in range(12):
        img = np.zeros((64, 64), np.uint8)
        img[16:48, 16:48] = 120 + rng.integers(0, 20, (32, 32))
        tifffile.imwrite(folder / f"im{k:03d}.tif", img)
    with caplog.at_level(logging.WARNING, logger="ctreview.io"):
        normals = gather_volumes([folder], "whole-part", 32)
    assert normals[0].volume.shape[0] == 12
    per_file = [r for r in caplog.records if "im00" in r.getMessage()]
    assert len(per_file) == 0
    assert len(caplog.records) <= 2  # the folder's own notes, once each


def test_one_binned_scan_holds_out_blocks_of_eight_full_resolution_slices():
    from ctreview.io import as_volume
    from ctreview.io.binned import binned
    from ctreview.training.normal_data import NormalVolume, split

    view = binned(as_volume(np.zeros((72, 16, 16), np.uint8)), (4, 4))
    normal = NormalVolume(view, None, list(range(view.shape[0])), "scan")  # type: ignore[arg-type]
    fit, held = split([normal], 0.25, seed=0)
    assert len(held[0][1]) >= 0.2 * view.shape[0]  # not one leftover block of two slices
    assert len(held[0][1]) % 2 == 0 and not set(fit[0][1]) & set(held[0][1])


def test_a_threshold_set_on_few_held_out_slices_reaches_past_their_maximum():
    from ctreview.training.fusion_calibration import cutoff

    few = [0.60, 0.65, 0.70, 0.72, 0.80, 0.87]
    assert cutoff(few, 0.01) > max(few) * 1.1  # six slices cannot show a 1-in-100 level: extrapolated
    many = list(np.random.default_rng(0).gamma(4.0, 0.2, 200))
    assert cutoff(many, 0.01) == sorted(many)[-2]  # 200 slices show it: the second highest, as before

