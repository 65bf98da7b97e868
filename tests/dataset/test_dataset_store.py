"""Training-set storage, manifest checks, dedup and pruning on synthetic tiles."""
import json

import numpy as np
import pytest

from ctreview.dataset import FORMAT_VERSION, TrainingSet, load_training_tiles, prune, read_manifest, summarise
from ctreview.dataset.manifest import sanitise_path
from ctreview.errors import CtreviewError

T = 8


def _source(name, fp):
    return {"fingerprint": fp, "name": name, "path": f"/data/{name}"}


def _tiles(slices, per_slice=3, seed=0):
    rng = np.random.default_rng(seed)
    tiles = rng.integers(0, 60000, (len(slices) * per_slice, T, T)).astype(np.uint16)
    records = [{"slice": z, "tile_box": [8 * k, 0, 8 * k + T, T], "reviewer": "ana"}
               for z in slices for k in range(per_slice)]
    return tiles, records


@pytest.fixture
def two_sources(tmp_path):
    out = tmp_path / "set"
    tset = TrainingSet.open_or_create(out)
    a_tiles, a_recs = _tiles([3, 4, 5], seed=1)
    b_tiles, b_recs = _tiles([10, 11], seed=2)
    assert tset.append(_source("a.tif", "v1:aaaa"), a_tiles, a_recs) == 9
    assert read_manifest(out).dtype == "uint16"
    assert tset.append(_source("b.tif", "v1:bbbb"), b_tiles, b_recs) == 6
    return out, np.concatenate([a_tiles, b_tiles])


def test_append_stores_tiles_in_index_order(two_sources):
    out, expected = two_sources
    tiles = load_training_tiles(out)
    assert tiles.shape == (15, T, T) and tiles.dtype == np.uint16
    np.testing.assert_array_equal(tiles, expected)
    man = read_manifest(out)
    assert man.tile_size == T and man.dtype == "uint16"
    assert [t["row"] for t in man.tiles] == list(range(9)) + list(range(6))
    assert json.loads((out / "manifest.json").read_text())["version"] == FORMAT_VERSION


def test_append_skips_tiles_already_present(two_sources):
    out, expected = two_sources
    tset = TrainingSet.open(out)
    again, recs = _tiles([5, 6], seed=3)  # slice 5 is there already: its 3 tiles are skipped
    assert tset.append(_source("a.tif", "v1:aaaa"), again, recs) == 3
    tiles = load_training_tiles(out)
    assert tiles.shape[0] == 18
    np.testing.assert_array_equal(tiles[15:], again[3:])
    # the old generation of the source's file is gone
    assert len(list((out / "tiles").glob("*.npy"))) == 2


def test_append_refuses_other_tile_size(two_sources):
    out, _ = two_sources
    big = np.zeros((1, 2 * T, 2 * T), np.uint16)
    with pytest.raises(CtreviewError, match="8-pixel tiles"):
        TrainingSet.open(out).append(_source("c.tif", "v1:cccc"), big,
                                     [{"slice": 0, "tile_box": [0, 0, 16, 16]}])


def test_prune_by_index_source_and_slice(two_sources):
    out, expected = two_sources
    assert prune(out, tiles=[0, 14]) == 2
    np.testing.assert_array_equal(load_training_tiles(out), expected[1:14])
    assert prune(out, source="v1:aaaa", slices=[4]) == 3
    left = load_training_tiles(out)
    np.testing.assert_array_equal(left, np.concatenate([expected[1:3], expected[6:14]]))
    assert prune(out, source="bbbb") == 5          # a unique fingerprint prefix
    info = summarise(out)
    assert info["tiles"] == 5 and [s["name"] for s in info["sources"]] == ["a.tif"]
    assert len(list((out / "tiles").glob("*.npy"))) == 1


def test_prune_rejects_unknown_index_and_source(two_sources):
    out, _ = two_sources
    with pytest.raises(CtreviewError, match="no tile with index 99"):
        prune(out, tiles=[99])
    with pytest.raises(CtreviewError, match="no source matches"):
        prune(out, source="v1:zzzz")
    assert summarise(out)["tiles"] == 15


def test_summary_lists_sources_and_slices(two_sources):
    out, _ = two_sources
    info = summarise(out)
    assert info["tiles"] == 15 and info["tile_size"] == T
    assert info["sources"][0]["slices"] == [3, 4, 5]
    assert info["sources"][1]["first_index"] == 9
    assert info["reviewers"] == {"ana": 15}


@pytest.mark.parametrize("content, message", [
    (b"", "cannot be read as JSON"),
    (b"{\"format\": \"something-else\"}", "format tag"),
    (b"[1, 2", "cannot be read as JSON"),
    (b"\xff\xfe\x00garbage", "cannot be read as JSON"),
    (json.dumps({"format": "ctreview-training-set", "version": 99, "sources": {}, "tiles": [],
                 "crops": []}).encode(), "newer"),
    (json.dumps({"format": "ctreview-training-set", "version": 1, "sources": {}, "crops": [],
                 "tiles": [{"source": "x", "row": 0, "slice": 0, "tile_box": [0, 0, 8, 8]}],
                 "tile_size": 8}).encode(), "unknown source"),
])
def test_broken_manifest_names_the_file(tmp_path, content, message):
    (tmp_path / "manifest.json").write_bytes(content)
    with pytest.raises(CtreviewError, match=message) as info:
        load_training_tiles(tmp_path)
    assert info.value.path == str(tmp_path / "manifest.json")


def test_missing_manifest_and_truncated_tiles(two_sources, tmp_path):
    with pytest.raises(CtreviewError, match="not a ctreview training set"):
        load_training_tiles(tmp_path)
    out, _ = two_sources
    npy = sorted((out / "tiles").glob("*.npy"))[0]
    npy.write_bytes(npy.read_bytes()[:200])
    with pytest.raises(CtreviewError) as info:
        load_training_tiles(out)
    assert info.value.path == str(npy)


def test_new_set_refuses_a_folder_with_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(CtreviewError, match="not an empty folder"):
        TrainingSet.open_or_create(tmp_path)


def test_sanitised_paths_hide_home_and_control_characters(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert sanitise_path(tmp_path / "scans" / "a\nb.tif") == "~/scans/ab.tif"
    assert sanitise_path("/elsewhere/x.tif") == "/elsewhere/x.tif"
