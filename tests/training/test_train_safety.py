"""Training never overwrites a model without being told, never trains on a handful of tiles silently,
and writes the training data's domain fingerprint."""
from __future__ import annotations

import hashlib

import pytest
from helpers_model import disc_tiles

from ctreview.cli import main
from ctreview.errors import CtreviewError
from ctreview.training import train

QUICK = dict(tile_size=32, latent_dim=8, width=8, batch_size=16, epochs=1, encoder_epochs=1)


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_train_refuses_an_existing_model_and_keeps_it_byte_for_byte(tiny_model, tmp_path, capsys):
    import shutil

    model = shutil.copytree(tiny_model, tmp_path / "model")
    before = _digests(model)
    data = tiny_model.parent / f"{tiny_model.name}-data"
    assert main(["train", str(data), "--out", str(model), "--tile-size", "32", "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {model}: already holds a model") and "--force" in err
    assert err.count("\n") == 1
    assert _digests(model) == before
    with pytest.raises(CtreviewError, match="already holds a model"):
        train(disc_tiles(64, seed=1), model, **QUICK)
    assert _digests(model) == before


def test_force_replaces_a_model(tmp_path):
    first = train(disc_tiles(64, seed=1), tmp_path / "m", **QUICK)
    before = _digests(first)
    again = train(disc_tiles(64, seed=2), tmp_path / "m", force=True, **QUICK)
    assert _digests(again)["weights.safetensors"] != before["weights.safetensors"]


def test_a_handful_of_tiles_is_refused_with_what_is_needed(tmp_path):
    with pytest.raises(CtreviewError) as info:
        train(disc_tiles(4, seed=1), tmp_path / "few", **QUICK)
    text = str(info.value)
    assert "only 4 training tiles" in text and "at least 32" in text and "--force" in text
    assert not (tmp_path / "few").exists()  # refused before anything was written
    out = train(disc_tiles(4, seed=1), tmp_path / "few", force=True, **QUICK)
    assert (out / "model.json").is_file()


def test_a_trained_model_carries_its_domain_fingerprint(tiny_model):
    from ctreview.model import read_meta
    from ctreview.model.meta import read_fingerprint

    fp = read_fingerprint(read_meta(tiny_model))
    assert fp is not None
    assert fp["volumes"] == 2 and fp["tile_size"] == 32 and fp["profile"] == "whole-part"
    assert fp["footprint"]["area_px"]["min"] > 0
    assert fp["spacing"]["median"] == pytest.approx([0.05, 0.05, 0.05])
    assert "relative_quantiles" in fp["scores"]
