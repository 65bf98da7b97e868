"""The review store: volumes by content, runs, scores, heatmap cache, decisions and history."""
import getpass
import sqlite3

import numpy as np
import pytest
from review_data import DEFECT_SLICES, compute_results, make_array, open_test_volume, scored_workspace, write_tiff

from ctreview.errors import CtreviewError
from ctreview.io import volume_fingerprint
from ctreview.review import CLEARED, Workspace, open_workspace


def test_default_workspace_lives_in_data_dir(private_data_dir):
    with open_workspace() as ws:
        assert ws.path == private_data_dir / "workspace.sqlite"
        assert ws.path.is_file()


def test_volume_is_known_by_content_not_path(workspace, volume, tmp_path):
    volume_id = workspace.add_volume(volume)
    assert workspace.add_volume(volume) == volume_id
    with open_test_volume(write_tiff(tmp_path / "other.tif", make_array(seed=2))) as other:
        assert workspace.find_volume(other) is None
        assert workspace.add_volume(other) != volume_id
    info = workspace.volume_info(volume_id)
    assert info["shape"] == volume.shape
    assert info["spacing"] == pytest.approx(volume.spacing)
    assert info["path"] == str(volume.path)


def test_fingerprint_sees_pixel_changes(tmp_path):
    array = make_array(seed=3)
    write_tiff(tmp_path / "a.tif", array)
    write_tiff(tmp_path / "renamed.tif", array)
    array[-1, 5, 5] += 1  # one voxel of the last slice, which the fingerprint samples
    write_tiff(tmp_path / "b.tif", array)
    prints = {}
    for name in ("a", "renamed", "b"):
        with open_test_volume(tmp_path / f"{name}.tif") as vol:
            prints[name] = volume_fingerprint(vol)
    assert prints["a"] == prints["renamed"]
    assert prints["a"] != prints["b"]


def test_run_scores_and_heatmaps_round_trip(workspace, volume):
    volume_id, run_id = scored_workspace(workspace, volume)
    results, threshold = compute_results(volume)
    stored = workspace.run_scores(run_id)
    assert [s.index for s in stored] == list(range(volume.shape[0]))
    for result, row in zip(results, stored):
        assert row.score == pytest.approx(result.score)
        assert row.relative == pytest.approx(result.relative)
        assert row.tile_box == result.tile_box
        assert row.boxes == result.boxes
        assert row.heat_max == pytest.approx(float(result.heatmap.max()))
        heat = workspace.heatmap(run_id, result.index)
        assert heat.dtype == np.float32 and heat.shape == result.heatmap.shape
        # 8-bit quantisation: within half a step of the slice's maximum; zero stays zero
        step = result.heatmap.max() / 255
        np.testing.assert_allclose(heat, result.heatmap, rtol=0, atol=step / 2 * 1.001)
        assert np.all(heat[result.heatmap == 0] == 0)
        assert heat.max() == pytest.approx(result.heatmap.max(), rel=1e-6)
    assert workspace.heatmap(run_id, 999) is None
    info = workspace.run_info(run_id)
    assert info["mode"] == "fast" and info["device"] == "cpu"
    assert info["summary"]["threshold"] == pytest.approx(threshold)
    assert workspace.model_info(info["model_id"])["meta"]["threshold"] == pytest.approx(threshold)
    assert workspace.latest_run(volume_id) == run_id


def test_later_result_for_a_slice_supersedes(workspace, volume):
    volume_id, run_id = scored_workspace(workspace, volume)
    refined, _ = compute_results(volume, threshold=1.0)
    refined[4].stage, refined[4].heatmap = "refined", np.full(volume.shape[1:], 7.0, np.float32)
    workspace.add_results(run_id, [refined[4]])
    row = workspace.run_scores(run_id)[4]
    assert row.stage == "refined" and row.relative == pytest.approx(refined[4].score)
    np.testing.assert_allclose(workspace.heatmap(run_id, 4), 7.0, rtol=1e-6)
    assert len(workspace.run_scores(run_id)) == volume.shape[0]


@pytest.mark.parametrize("heat", [
    np.zeros((5, 7), np.float32),
    np.pad(np.linspace(-2, 3, 12, dtype=np.float32).reshape(3, 4), ((1, 2), (3, 0))),
    np.array([[0, np.nan, np.inf], [1, 2, -np.inf]], np.float32),
])
def test_heatmap_codec_round_trips(heat):
    from ctreview.review.heatmap_store import decode, encode

    back = decode(encode(heat))
    clean = np.nan_to_num(heat, nan=0, posinf=0, neginf=0)
    assert back.shape == heat.shape and back.dtype == np.float32
    span = max(clean.max() - min(0, clean.min()), 0)
    np.testing.assert_allclose(back, clean, atol=span / 510 + 1e-6)
    if clean.min() >= 0:                   # residual maps: zero outside the ROI stays exact
        assert np.all(back[clean == 0] == 0)


def test_damaged_or_pickled_heatmap_file_reads_as_missing(workspace, volume):
    _, run_id = scored_workspace(workspace, volume)
    folder = workspace.heatmaps.root / str(run_id)
    (folder / "000003.npz").write_bytes(b"PK\x03\x04 truncated")
    np.savez(folder / "000004.npz", heatmap=np.array([{"evil": 1}], dtype=object))
    assert workspace.heatmap(run_id, 3) is None
    assert workspace.heatmap(run_id, 4) is None
    assert workspace.heatmap(run_id, 5) is not None


def test_unfinished_run_is_latest_only_without_a_finished_one(workspace, volume):
    volume_id, finished = scored_workspace(workspace, volume)
    running = workspace.start_run(volume_id, None, "anogan", {}, "cpu")
    assert workspace.latest_run(volume_id) == finished
    workspace.finish_run(running, {"seconds": 1.0})
    assert workspace.latest_run(volume_id) == running
    assert [r["id"] for r in workspace.runs(volume_id)] == [running, finished]


def test_change_of_mind_appends_and_history_is_complete(workspace, volume):
    volume_id = workspace.add_volume(volume)
    first = workspace.decide(volume_id, 5, "accept", reviewer="alice")
    second = workspace.decide(volume_id, 5, "flag", note="crack?", reviewer="bob")
    assert second["id"] > first["id"]
    assert workspace.decisions(volume_id)[5]["status"] == "flag"
    assert workspace.decisions(volume_id)[5]["note"] == "crack?"
    history = workspace.history(volume_id, 5)
    assert [(h["status"], h["reviewer"]) for h in history] == [("accept", "alice"), ("flag", "bob")]
    assert history[0]["decided_at"] <= history[1]["decided_at"]
    assert workspace.reviewers(volume_id) == ["alice", "bob"]


def test_undo_appends_and_stacks(workspace, volume):
    volume_id = workspace.add_volume(volume)
    workspace.decide(volume_id, 2, "accept", note="fine")
    flag = workspace.decide(volume_id, 2, "flag", note="void")
    undo = workspace.undo(volume_id, 2)
    assert undo["status"] == "accept" and undo["note"] == "fine" and undo["undo_of"] == flag["id"]
    assert workspace.decisions(volume_id)[2]["status"] == "accept"
    undo2 = workspace.undo(volume_id, 2)
    assert undo2["status"] == CLEARED
    assert 2 not in workspace.decisions(volume_id)
    with pytest.raises(CtreviewError, match="no decision to undo"):
        workspace.undo(volume_id, 2)
    assert [h["status"] for h in workspace.history(volume_id, 2)] == [
        "accept", "flag", "accept", CLEARED]


def test_reviewer_defaults_to_os_user(workspace, volume):
    volume_id = workspace.add_volume(volume)
    assert workspace.decide(volume_id, 0, "unsure")["reviewer"] == getpass.getuser()


def test_bad_decisions_are_refused(workspace, volume):
    volume_id = workspace.add_volume(volume)
    with pytest.raises(CtreviewError, match="out of range"):
        workspace.decide(volume_id, volume.shape[0], "flag")
    with pytest.raises(CtreviewError, match="unknown decision status"):
        workspace.decide(volume_id, 0, "reject")
    with pytest.raises(CtreviewError, match="no volume"):
        workspace.decide(volume_id + 100, 0, "flag")
    assert workspace.decisions(volume_id) == {}


def test_resume_after_reopen_and_move(tmp_path, volume_file):
    db = tmp_path / "ws.sqlite"
    with Workspace(db) as ws, open_test_volume(volume_file) as vol:
        volume_id, run_id = scored_workspace(ws, vol)
        scores = ws.run_scores(run_id)
    moved = volume_file.rename(tmp_path / "renamed_elsewhere.tif")
    with Workspace(db) as ws, open_test_volume(moved) as vol:
        session = ws.resume(vol)
        assert session.volume_id == volume_id and session.run_id == run_id
        assert session.scores == scores
        assert sorted(k for k, d in session.decisions.items() if d["status"] == "flag") == list(
            DEFECT_SLICES)
        assert ws.volume_info(volume_id)["path"] == str(moved)
        assert ws.heatmap(run_id, DEFECT_SLICES[0]) is not None


def test_resume_of_unknown_volume_is_none(workspace, volume):
    assert workspace.resume(volume) is None
    assert workspace.volumes() == []


def test_worker_thread_and_gui_thread_share_a_workspace(workspace, volume):
    import threading

    volume_id = workspace.add_volume(volume)
    run_id = workspace.start_run(volume_id, None, "fast", {}, "cpu")
    results, _ = compute_results(volume)
    errors = []

    def worker():
        try:
            for result in results:
                workspace.add_results(run_id, [result])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    for k in range(volume.shape[0]):
        workspace.decide(volume_id, k, "accept")
    thread.join()
    assert errors == []
    assert len(workspace.run_scores(run_id)) == volume.shape[0]
    assert len(workspace.decisions(volume_id)) == volume.shape[0]


def test_decisions_table_has_no_update_path(workspace, volume):
    """The audit trail: every decide() is one new row, ids strictly increase."""
    volume_id = workspace.add_volume(volume)
    ids = [workspace.decide(volume_id, 1, s)["id"] for s in ("accept", "flag", "unsure", "flag")]
    assert ids == sorted(set(ids))
    conn = sqlite3.connect(workspace.path)
    assert conn.execute("SELECT count(*) FROM decisions").fetchone()[0] == 4
    conn.close()
