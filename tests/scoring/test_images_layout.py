"""Independent images: trained and scored one by one, whatever their order, with no air around them."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from ctreview.cli import main


def _tile_photo(seed: int, *, spot: bool = False, size=(72, 88)) -> np.ndarray:
    """A grey 'magnetic tile' photo: smooth shading and grain all over, no background."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size[0], :size[1]]
    image = 120 + 25 * np.sin(xx / 9.0 + seed) + 15 * np.cos(yy / 13.0) + rng.normal(0, 6, size)
    if spot:
        y, x = rng.integers(15, size[0] - 15), rng.integers(15, size[1] - 15)
        image[y - 3:y + 3, x - 3:x + 3] = 250
    return np.clip(image, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def image_model(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    normal = root / "normal"
    normal.mkdir()
    for k in range(18):
        Image.fromarray(_tile_photo(k)).save(normal / f"good_{k:02d}.png")
    model = root / "model"
    assert main(["train", "--images", str(normal), "--out", str(model), "--tile-size", "32",
                 "--head-iterations", "40", "--device", "cpu",
                 "--anogan-iterations", "40", "--anogan-encoder-iterations", "20"]) == 0
    return model, root


def test_training_on_images_without_air_gives_an_images_model(image_model):
    model, _ = image_model
    meta = json.loads((model / "model.json").read_text())
    assert meta["layout"] == "images" and meta["profile"] == "whole-image"
    assert meta["detector"]["offsets"] == []


def test_each_image_is_scored_on_its_own_whatever_the_order(image_model, tmp_path):
    model, root = image_model
    test = tmp_path / "test"
    test.mkdir()
    for k in range(4):
        Image.fromarray(_tile_photo(100 + k)).save(test / f"a_{k}.png")
    Image.fromarray(_tile_photo(200, spot=True)).save(test / "a_9_spot.png")
    Image.fromarray(_tile_photo(201, size=(60, 70))).save(test / "a_5_small.png")
    assert main(["score", "--images", str(test), "--model", str(model), "--out", str(tmp_path / "run1"),
                 "--device", "cpu"]) == 0
    shuffled = tmp_path / "shuffled"
    shuffled.mkdir()
    for i, path in enumerate(sorted(test.iterdir(), reverse=True)):   # the same images, another order
        shutil.copy(path, shuffled / f"{i:02d}_{path.name}")

    def scores(run, folder):
        names = [m["name"] for m in json.loads((run / "summary.json").read_text())["images"]]
        rows = (run / "scores.csv").read_text().splitlines()[1:]
        return {names[int(r.split(",")[0])].split("_", 1)[-1] if folder == "s" else names[int(r.split(",")[0])]:
                float(r.split(",")[2]) for r in rows}

    assert main(["score", "--images", str(shuffled), "--model", str(model), "--out", str(tmp_path / "run2"),
                 "--device", "cpu"]) == 0
    first, second = scores(tmp_path / "run1", "t"), scores(tmp_path / "run2", "s")
    assert first.keys() == second.keys()
    for name in first:
        assert first[name] == pytest.approx(second[name], rel=1e-4), name
    assert max(first, key=first.get) == "a_9_spot.png"
    summary = json.loads((tmp_path / "run1" / "summary.json").read_text())
    assert summary["layout"] == "images"


def test_roi_segments_images_without_air_each_on_its_own(image_model, capsys):
    _, root = image_model
    assert main(["roi", "--images", str(root / "normal")]) == 0
    out = capsys.readouterr().out
    assert "independent images: 18" in out and "profile: whole-image" in out and "images with a ROI: 18" in out
    assert main(["roi", "--images", str(root / "normal"), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["slices"]) == 18


def test_batch_scores_each_folder_of_images_as_a_set_and_ranks_the_one_with_a_spot_first(image_model, tmp_path,
                                                                                          capsys):
    model, _ = image_model
    plain, spotted = tmp_path / "in" / "plain", tmp_path / "in" / "spotted"
    for folder, seeds in ((plain, (300, 301, 302)), (spotted, (310, 311))):
        folder.mkdir(parents=True)
        for k in seeds:
            Image.fromarray(_tile_photo(k)).save(folder / f"img_{k}.png")
    Image.fromarray(_tile_photo(312, spot=True)).save(spotted / "img_312.png")
    out = tmp_path / "runs"
    assert main(["batch", "--images", str(tmp_path / "in"), "--model", str(model), "--out", str(out),
                 "--device", "cpu"]) == 0
    table = json.loads((out / "batch.json").read_text())
    rows = table["volumes"]
    assert [r["status"] for r in rows] == ["done", "done"]
    assert rows[0]["volume"].endswith("spotted") and table["layout"] == "images"
    summaries = [json.loads((out / r["run"] / "summary.json").read_text()) for r in rows]
    assert [s["layout"] for s in summaries] == ["images", "images"]
    assert [len(s["images"]) for s in summaries] == [3, 3]
    capsys.readouterr()
    assert main(["batch", "--images", str(tmp_path / "in"), "--model", str(model), "--out", str(out),
                 "--device", "cpu"]) == 0                                       # a rerun keeps both runs
    assert [r["status"] for r in json.loads((out / "batch.json").read_text())["volumes"]] == ["skipped", "skipped"]


def test_an_images_model_holds_the_anogan_without_context(image_model):
    model, _ = image_model
    anogan = json.loads((model / "model.json").read_text())["detector"]["scorers"]["anogan"]
    assert anogan["variant"] == "conditioned" and anogan["offsets"] == []
