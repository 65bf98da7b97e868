"""Model files: round trip, and refusal of anything that is not a sound ctreview model."""
import json
import shutil

import numpy as np
import pytest
import torch

from ctreview.errors import CtreviewError
from ctreview.model import bundled_model_path, list_models, load_anogan, load_model, read_meta


@pytest.fixture
def model_copy(tiny_model, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(tiny_model, dst)
    return dst


@pytest.mark.slow
def test_round_trip_keeps_meta_and_scores(tiny_model):
    model = load_anogan(tiny_model, "cpu")
    meta = model.meta
    assert meta["format"] == "ctreview-model" and meta["format_version"] == 1
    assert model.tile_size == 32 and model.latent_dim == 16
    assert meta["profile"] == "whole-part"
    lo, hi = model.window
    assert hi > lo
    assert meta["calibration"]["fast"]["threshold"] > 0
    assert all(len(s["sha256"]) == 64 for s in meta["data"]["sources"])
    assert {"torch", "numpy", "ctreview"} <= set(meta["versions"])
    tiles = np.full((2, 32, 32), lo, np.float32)
    a = model.score_tiles(tiles).scores
    b = load_anogan(tiny_model, "cpu").score_tiles(tiles).scores
    np.testing.assert_array_equal(a, b)


def test_truncated_weights_are_refused(model_copy):
    weights = model_copy / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(CtreviewError, match="truncated"):
        load_model(model_copy, "cpu")


def test_modified_weights_are_refused(model_copy):
    weights = model_copy / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[-10] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CtreviewError, match="checksum"):
        load_model(model_copy, "cpu")


def test_pickle_renamed_as_weights_is_refused_without_unpickling(model_copy, tmp_path):
    marker = tmp_path / "unpickled"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    weights = model_copy / "weights.safetensors"
    torch.save({"x": Evil()}, weights)
    meta = json.loads((model_copy / "model.json").read_text())
    meta["weights"].pop("sha256")
    meta["weights"]["bytes"] = weights.stat().st_size
    (model_copy / "model.json").write_text(json.dumps(meta))
    with pytest.raises(CtreviewError, match="safetensors"):
        load_model(model_copy, "cpu")
    assert not marker.exists()


def test_a_pt_file_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"a": torch.zeros(2)}, path)
    with pytest.raises(CtreviewError, match="pickled"):
        load_model(path)


def test_other_format_version_is_refused(model_copy):
    meta = json.loads((model_copy / "model.json").read_text())
    meta["format_version"] = 99
    (model_copy / "model.json").write_text(json.dumps(meta))
    with pytest.raises(CtreviewError, match="version 99"):
        load_model(model_copy, "cpu")


@pytest.mark.parametrize("text", ["{not json", json.dumps({"format": "other"}), json.dumps([1, 2])])
def test_foreign_or_broken_description_is_refused(model_copy, text):
    (model_copy / "model.json").write_text(text)
    with pytest.raises(CtreviewError):
        load_model(model_copy, "cpu")


def test_missing_files_are_refused(model_copy, tmp_path):
    (model_copy / "weights.safetensors").unlink()
    with pytest.raises(CtreviewError, match="missing"):
        load_model(model_copy, "cpu")
    with pytest.raises(CtreviewError, match="not found"):
        load_model(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CtreviewError, match="model.json"):
        load_model(empty)


def test_user_library_lists_models_and_skips_broken(model_copy):
    from ctreview.paths import model_library_dir

    shutil.copytree(model_copy, model_library_dir() / "mine")
    (model_library_dir() / "broken").mkdir()
    (model_library_dir() / "broken" / "model.json").write_text("{")
    infos = [i for i in list_models() if not i.bundled]
    assert [i.name for i in infos] == [read_meta(model_copy)["name"]]
    assert infos[0].tile_size == 32


def test_unknown_bundled_part_is_a_user_error():
    with pytest.raises(CtreviewError):
        bundled_model_path("toaster")


def test_a_model_scores_with_the_residual_settings_it_was_calibrated_with(tiny_model):
    from helpers_model import disc_tiles

    from ctreview.model.anogan.anomaly import SHIFT, SIGMA

    model = load_anogan(tiny_model, "cpu")
    assert (model.shift, model.sigma) == (SHIFT, SIGMA)  # calibrated today
    tiles = disc_tiles(4, defect=True, seed=1)
    today = model.score_tiles(tiles, "fast").maps
    model.meta["calibration"].update(shift=2, sigma=2.0)  # as a model calibrated before the change
    assert (model.shift, model.sigma) == (2, 2.0)
    assert not np.allclose(model.score_tiles(tiles, "fast").maps, today)
