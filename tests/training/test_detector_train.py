"""The fused model: trained on normal volumes, thresholds from held-out slices, stored and scored."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from helpers_model import drain

from ctreview.io import open_volume
from ctreview.model import load_model, read_meta
from ctreview.model.detector import Detector
from ctreview.scoring import ScoringSettings, run_scoring
from ctreview.scoring.heatmap_file import read_heatmap


def test_a_fused_model_is_format_2_with_its_scorers_and_held_out_thresholds(tiny_detector):
    meta = read_meta(tiny_detector)
    assert meta["format_version"] == 2 and set(meta["detector"]["scorers"]) == {"features", "head"}
    fit = {d["source"] for d in meta["data"]["fit"]}
    held = {d["source"] for d in meta["data"]["calibration"]}
    assert fit and held and not fit & held          # thresholds never from a fitted volume
    fusion = meta["detector"]["fusion"]
    assert fusion["threshold"] > 0 and all(v > 0 for v in fusion["scales"].values())
    assert fusion["normal_slices"] == meta["calibration"]["held_out_slices"] > 0
    # the head's training follows another path with another CPU thread count: the model says which it had
    assert isinstance(meta["training"]["threads"], int) and meta["training"]["threads"] >= 1


def test_the_stored_model_scores_as_it_was_trained(tiny_detector, tiny_data):
    model = load_model(tiny_detector, "cpu")
    assert isinstance(model, Detector) and model.offsets == (-6, -3, 3, 6)
    volume = open_volume(tiny_data / "transformer_defect_000.tif")
    a, summary = drain(run_scoring(volume, model, ScoringSettings(mode="fast")))
    b, _ = drain(run_scoring(volume, load_model(tiny_detector, "cpu"), ScoringSettings(mode="fast")))
    scores = [r.relative for r in a[1:]]
    assert scores == [r.relative for r in b[1:]]
    assert summary.statistic == "fused" and summary.model["format_version"] == 2
    first = a[1]
    assert first.heatmap.shape == volume.shape[1:] and set(first.maps) == {"features", "head"}
    assert first.relative == pytest.approx(float(first.heatmap.max()))
    outside = ~summary_mask(volume, first.index, model)
    assert not first.heatmap[outside].any()


def summary_mask(volume, k, model):
    from ctreview.scoring import find_roi

    return find_roi(volume, model, ScoringSettings()).slices[k].mask(volume.shape[1:])


def test_an_obvious_planted_defect_tops_the_ranking_and_the_heatmap(tiny_detector, tiny_data):
    from ctreview.io import Volume
    from ctreview.scoring import find_roi

    model = load_model(tiny_detector, "cpu")
    normal = open_volume(tiny_data / "transformer_normal_000.tif")
    array = normal.read().astype(np.float32)
    roi = find_roi(normal, model, ScoringSettings())
    k = sorted(roi.slices)[len(roi.slices) // 2]
    ys, xs = np.nonzero(roi.part_mask(k))
    cy, cx = int(np.median(ys)), int(np.median(xs))
    array[k - 1:k + 2, cy - 3:cy + 3, cx - 3:cx + 3] = array.max() * 1.5   # a dense inclusion, 3 slices deep
    spotted = Volume.from_array(array.astype(np.uint16), spacing=normal.spacing)
    results, _ = drain(run_scoring(spotted, model, ScoringSettings(mode="fast"), roi=roi))
    by_slice = {r.index: r for r in results[1:]}
    top = max(by_slice.values(), key=lambda r: r.relative)
    assert top.index in (k - 1, k, k + 1)
    y, x = np.unravel_index(int(np.argmax(top.heatmap)), top.heatmap.shape)
    assert abs(y - cy) <= 6 and abs(x - cx) <= 6


def test_maps_of_each_scorer_go_into_the_run_folder(tiny_detector, tiny_data, tmp_path):
    from ctreview.cli import main

    volume = tiny_data / "transformer_defect_000.tif"
    assert main(["score", str(volume), "--model", str(tiny_detector), "--out", str(tmp_path / "run"),
                 "--maps", "all", "--device", "cpu"]) == 0
    for name in ("features", "head"):
        heat = read_heatmap(tmp_path / "run" / f"heatmap-{name}.tif")
        assert heat.shape == open_volume(volume).shape and heat.max() > 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["statistic"] == "fused" and summary["files"]["heatmap:head"] == "heatmap-head.tif"
    assert main(["score", str(volume), "--model", str(tiny_detector), "--out", str(tmp_path / "r2"),
                 "--maps", "nothing", "--device", "cpu"]) == 2


def test_the_head_map_a_run_reports_is_the_head_network_on_the_slice_and_its_context(tiny_detector, tiny_data):
    """What bench_detection's "head alone" row reads (``SliceResult.maps["head"]``) is the stored head on
    each slice's own stack (the slice and the ROI slices at its offsets, cut to the one crop of the
    volume), softplus of its logits over the head's scale, inside the ROI: nothing in the scoring pass
    (batching, crop, context offsets, paste, fusion scale) may change it. Recomputed here from the
    volume without the pass's SliceInputs.
    """
    import torch.nn.functional as F

    from ctreview.roi.context import context_indices
    from ctreview.scoring import find_roi
    from ctreview.scoring.inputs import SliceInputs

    model = load_model(tiny_detector, "cpu")
    head = model.scorers["head"].head
    volume = open_volume(tiny_data / "transformer_defect_000.tif")
    roi = find_roi(volume, model, ScoringSettings())
    results, _ = drain(run_scoring(volume, model, ScoringSettings(), roi=roi))
    y0, x0, y1, x1 = SliceInputs(volume, roi, model.offsets).box(sorted(roi.slices)[0])  # the crop only
    keys, scale = sorted(roi.slices), model.fusion.scales["head"]
    checked = 0
    for r in results[1:]:
        near = context_indices(r.index, keys, head.offsets)
        stack = np.stack([volume.slice(j)[y0:y1, x0:x1] for j in near]).astype(np.float32)
        expected = F.softplus(torch.from_numpy(head.logits(stack[None]))).numpy()[0] / scale
        mask = roi.slices[r.index].mask(volume.shape[1:])
        np.testing.assert_allclose(r.maps["head"][y0:y1, x0:x1][mask[y0:y1, x0:x1]],
                                   expected[mask[y0:y1, x0:x1]], rtol=1e-4, atol=1e-6)
        assert not r.maps["head"][~mask].any()
        checked += 1
    assert checked == len(keys) > 8  # more than one batch of slices went through the pass
