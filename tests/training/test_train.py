"""Training: events, cancel, resume, reproducibility, and that it learns normality."""
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.torch import load_file

from ctreview.errors import Cancelled, CtreviewError
from ctreview.model import load_anogan, load_model
from ctreview.training import train

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers_model import TINY, auroc, disc_tiles  # noqa: E402

QUICK = dict(TINY, epochs=3, encoder_epochs=2)


def _weights(folder):
    return load_file(str(folder / "weights.safetensors"))


def test_events_report_progress_and_samples(tmp_path):
    events = []
    train(disc_tiles(96, seed=1), tmp_path / "m", sample_every=2, on_event=events.append, **QUICK)
    phases = [e.phase for e in events]
    assert phases[0] == "gan" and "encoder" in phases and phases[-1] == "done"
    gan = [e for e in events if e.phase == "gan"]
    assert gan[-1].iteration == gan[-1].iterations
    assert {"d_loss", "g_loss"} <= set(gan[0].losses)
    samples = [e.samples for e in gan if e.samples is not None]
    assert samples and samples[0].shape[1:] == (32, 32)
    assert 0.0 <= samples[0].min() and samples[0].max() <= 1.0


@pytest.mark.slow
def test_same_seed_same_model_and_cancel_then_resume_matches(tmp_path):
    tiles = disc_tiles(96, seed=1)
    straight = train(tiles, tmp_path / "a", **QUICK)
    calls = []

    def stop_after_5():
        calls.append(1)
        return len(calls) > 5

    with pytest.raises(Cancelled):
        train(tiles, tmp_path / "b", should_stop=stop_after_5, **QUICK)
    assert (tmp_path / "b" / "checkpoint.pt").is_file()
    assert not (tmp_path / "b" / "model.json").exists()
    resumed = train(tiles, tmp_path / "b", resume=True, **QUICK)
    assert not (resumed / "checkpoint.pt").exists()
    a, b = _weights(straight), _weights(resumed)
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key].numpy(), b[key].numpy()), key


def test_resume_refuses_other_settings(tmp_path):
    tiles = disc_tiles(64, seed=1)
    with pytest.raises(Cancelled):
        train(tiles, tmp_path / "m", should_stop=lambda: True, **QUICK)
    with pytest.raises(CtreviewError, match="other settings"):
        train(tiles, tmp_path / "m", resume=True, **{**QUICK, "latent_dim": 8})


def test_wgan_gp_trains(tmp_path):
    out = train(disc_tiles(64, seed=1), tmp_path / "w", loss="wgan-gp", n_critic=2,
                **dict(QUICK, epochs=1, encoder_epochs=1))
    assert load_model(out, "cpu").meta["training"]["loss"] == "wgan-gp"


@pytest.mark.parametrize("bad", [np.zeros((10, 32, 32)), np.full((10, 32, 32), np.nan), np.zeros((0, 32, 32))])
def test_bad_training_data_is_a_user_error(tmp_path, bad):
    with pytest.raises(CtreviewError):
        train(bad, tmp_path / "m", **QUICK)


def test_missing_input_is_a_user_error(tmp_path):
    with pytest.raises(CtreviewError, match="not found"):
        train([tmp_path / "nothing.tif"], tmp_path / "m", **QUICK)


@pytest.mark.slow
def test_tiny_model_separates_an_obvious_defect(tmp_path):
    out = train(disc_tiles(300, seed=1), tmp_path / "m", **dict(TINY, epochs=12))
    model = load_anogan(out, "cpu")
    normal, bad = disc_tiles(40, seed=7), disc_tiles(40, defect=True, seed=8)
    fast_n, fast_b = model.score_tiles(normal).scores, model.score_tiles(bad).scores
    assert auroc(fast_b, fast_n) > 0.9
    hyb = model.score_tiles(bad, "hybrid", steps=20)
    assert hyb.maps.shape == (40, 32, 32) and hyb.steps > 0
    # the residual peaks where the spot is
    spot = (bad - normal.mean()) > 2000
    inside = [m[s].mean() > m[~s].mean() * 3 for m, s in zip(hyb.maps, spot)]
    assert np.mean(inside) > 0.8


def test_trains_from_a_training_set_folder(tmp_path):
    import json

    folder = tmp_path / "set"
    (folder / "tiles").mkdir(parents=True)
    tiles = disc_tiles(64, seed=3).astype(np.uint16)
    np.save(folder / "tiles" / "abc-1.npy", tiles)
    records = [{"source": "abc", "row": i, "slice": i // 4, "tile_box": [0, 0, 32, 32]} for i in range(64)]
    manifest = {"format": "ctreview-training-set", "version": 1, "tile_size": 32, "files": ["tiles/abc-1.npy"],
                "sources": {"abc": {"fingerprint": "abc", "name": "v", "file": "tiles/abc-1.npy", "count": 64}},
                "tiles": records, "crops": []}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    out = train([folder], tmp_path / "m", **dict(QUICK, epochs=1, encoder_epochs=1))
    meta = load_model(out, "cpu").meta
    assert meta["data"]["tiles"] == 64
    assert meta["data"]["calibration_tiles"] % 4 == 0  # whole slices held out
    assert meta["data"]["sources"][0]["path"] == str(folder)
    assert meta["data"]["sources"][0]["kind"] == "training-set"


def test_a_training_set_of_another_tile_size_is_refused(tmp_path):
    import json

    folder = tmp_path / "set"
    folder.mkdir()
    np.save(folder / "abc-1.npy", disc_tiles(8, tile=64, seed=3).astype(np.uint16))
    records = [{"source": "abc", "row": i, "slice": i, "tile_box": [0, 0, 64, 64]} for i in range(8)]
    manifest = {"format": "ctreview-training-set", "version": 1, "tile_size": 64,
                "sources": {"abc": {"fingerprint": "abc", "name": "v", "file": "abc-1.npy", "count": 8}},
                "tiles": records, "crops": []}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CtreviewError, match="--tile-size 64"):
        train([folder], tmp_path / "m", **dict(QUICK, epochs=1, encoder_epochs=1))
