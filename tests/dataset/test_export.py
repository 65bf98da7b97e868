"""Export of a reviewed phantom session (real workspace, model, run, decisions) into a training set."""
from __future__ import annotations

import numpy as np
import pytest

from ctreview.dataset import export_training_set, load_training_tiles, read_manifest, summarise
from ctreview.errors import CtreviewError


@pytest.fixture
def workspace(reviewed):
    from ctreview.review import open_workspace

    with open_workspace(reviewed.workspace) as ws:
        yield ws


def _slices(manifest, fingerprint=None):
    return sorted({t["slice"] for t in manifest.tiles
                   if fingerprint is None or t["source"] == fingerprint})


def test_export_keeps_accepted_below_threshold_slices_with_provenance(reviewed, workspace, tmp_path):
    from ctreview.io import open_volume, volume_fingerprint

    out = tmp_path / "set"
    summary = export_training_set(workspace, reviewed.volumes, out)
    man = read_manifest(out)
    tiles = load_training_tiles(out)
    assert summary.added == summary.total == len(man.tiles) == tiles.shape[0] > 0
    assert tiles.shape[1:] == (32, 32) and tiles.dtype == np.uint16
    for path, vid in zip(reviewed.volumes, reviewed.volume_ids):
        with open_volume(path) as vol:
            fp = volume_fingerprint(vol)
            expected = sorted(set(reviewed.accepted[vid]) - set(reviewed.above(vid)))
            assert _slices(man, fp) == expected
            assert not set(_slices(man, fp)) & set(reviewed.flagged[vid] + reviewed.unsure[vid])
            if expected:
                src = man.sources[fp]
                assert src["name"] == path.name and src["path"].endswith(path.name)
            # every stored tile is the very pixels of its slice at its box
            for i, rec in enumerate(man.tiles):
                if rec["source"] == fp:
                    y0, x0, y1, x1 = rec["tile_box"]
                    np.testing.assert_array_equal(tiles[i], vol.slice(rec["slice"])[y0:y1, x0:x1])
    rec = man.tiles[0]
    assert rec["reviewer"] == "tester" and rec["decided_at"]
    assert rec["profile"] and rec["roi_box"] is not None
    assert rec["run"]["id"] >= 1 and rec["run"]["model"] and rec["run"]["relative"] <= 1.0


def test_accepted_slices_above_threshold_are_dropped_unless_confirmed(reviewed, workspace, tmp_path):
    above = {vid: reviewed.above(vid) for vid in reviewed.volume_ids}
    assert any(above.values()), "the seeded session must hold an accepted slice above threshold"
    dropped = export_training_set(workspace, reviewed.volumes, tmp_path / "default")
    listed = " ".join(dropped.warnings)
    for slices in above.values():
        for z in slices:
            assert f"{z} (" in listed
    assert "dropped" in listed
    kept = export_training_set(workspace, reviewed.volumes, tmp_path / "confirmed",
                               include_above_threshold=True)
    man = read_manifest(tmp_path / "confirmed")
    all_accepted = sorted({z for vid in reviewed.volume_ids for z in reviewed.accepted[vid]})
    assert set(_slices(man)) == set(all_accepted)
    assert kept.added > dropped.added
    assert "included as confirmed normal" in " ".join(kept.warnings)


def test_append_skips_tiles_already_in_the_set(reviewed, workspace, tmp_path):
    out = tmp_path / "set"
    first = export_training_set(workspace, reviewed.volumes[:1], out)
    again = export_training_set(workspace, reviewed.volumes[:1], out)
    assert again.added == 0 and again.duplicates == first.added
    more = export_training_set(workspace, reviewed.volumes, out, include_above_threshold=True)
    assert more.duplicates == first.added
    assert summarise(out)["tiles"] == first.added + more.added
    history = [h["action"] for h in read_manifest(out).history]
    assert history == ["export", "export", "export"]


def test_export_refuses_volumes_the_workspace_does_not_know(workspace, tmp_path):
    from ctreview.io import Volume

    stranger = Volume.from_array(np.random.default_rng(0).integers(0, 9, (4, 40, 40), np.uint16))
    with pytest.raises(CtreviewError, match="not in the workspace"):
        export_training_set(workspace, [stranger], tmp_path / "set")


def test_progress_and_cancel(reviewed, workspace, tmp_path):
    from ctreview.dataset import is_training_set, iter_export
    from ctreview.errors import Cancelled
    from ctreview.progress import drain

    seen = []
    drain(iter_export(workspace, reviewed.volumes, tmp_path / "a"), lambda p: seen.append((p.done, p.total)))
    assert seen[-1] == (200, 200) and all(d <= t for d, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    polls = []
    with pytest.raises(Cancelled):
        export_training_set(workspace, reviewed.volumes, tmp_path / "b",
                            should_stop=lambda: polls.append(1) or len(polls) > 3)
    # a volume is written whole or not at all
    assert not is_training_set(tmp_path / "b") or summarise(tmp_path / "b")["tiles"] == 0


def test_whole_roi_crops_are_stored_and_pruned_with_their_source(reviewed, workspace, tmp_path):
    from ctreview.dataset import prune
    from ctreview.io import open_volume

    out = tmp_path / "set"
    export_training_set(workspace, reviewed.volumes[:1], out, crops=True)
    man = read_manifest(out)
    assert man.crops and {c["slice"] for c in man.crops} == set(_slices(man))
    with open_volume(reviewed.volumes[0]) as vol:
        for crop in man.crops[:3]:
            y0, x0, y1, x1 = crop["box"]
            np.testing.assert_array_equal(np.load(out / crop["file"]), vol.slice(crop["slice"])[y0:y1, x0:x1])
    fp = man.tiles[0]["source"]
    assert prune(out, source=fp) == len(man.tiles)
    assert read_manifest(out).crops == [] and not any((out / "crops").rglob("*.npy"))
