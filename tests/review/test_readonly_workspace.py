"""Commands that only read a workspace never create one; decisions can be cleared from the command line."""
from __future__ import annotations

from ctreview.cli import main
from ctreview.review import Workspace, open_workspace


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_report_on_a_missing_workspace_creates_nothing(tmp_path, volume_file, capsys):
    before = _files(tmp_path)
    missing = tmp_path / "nowhere" / "missing.sqlite"
    assert main(["report", str(volume_file), "--out", str(tmp_path / "r.pdf"), "--workspace", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {missing}: no workspace here") and err.count("\n") == 1
    assert _files(tmp_path) == before  # no database, no heatmap folder, no parent folder, no report


def test_report_on_a_missing_default_workspace_creates_nothing(volume_file, private_data_dir, tmp_path):
    assert main(["report", str(volume_file), "--csv", str(tmp_path / "r.csv")]) == 2
    assert not (private_data_dir / "workspace.sqlite").exists()


def test_dataset_export_on_a_missing_workspace_creates_nothing(tmp_path, volume_file, capsys):
    missing = tmp_path / "missing.sqlite"
    assert main(["dataset", "export", str(volume_file), "--out", str(tmp_path / "set"),
                 "--workspace", str(missing)]) == 2
    assert "no workspace here" in capsys.readouterr().err
    assert not missing.exists() and not (tmp_path / "set").exists()


def test_open_workspace_read_only_opens_an_existing_one(tmp_path):
    path = tmp_path / "ws.sqlite"
    open_workspace(path).close()
    with open_workspace(path, create=False) as ws:
        assert ws.volumes() == []


def test_decide_status_none_clears_and_undo_reverts(tmp_path, volume_file, volume, capsys):
    db = tmp_path / "ws.sqlite"
    args = ["decide", str(volume_file), "--slice", "4", "--workspace", str(db)]
    assert main([*args, "--status", "flag"]) == 0
    assert main([*args, "--status", "accept"]) == 0
    assert main([*args, "--undo"]) == 0
    assert "slice 4: flag" in capsys.readouterr().out.splitlines()[-1]
    assert main([*args, "--status", "none"]) == 0
    assert "slice 4: unreviewed" in capsys.readouterr().out
    with Workspace(db) as ws:
        vid = ws.find_volume(volume)
        assert 4 not in ws.decisions(vid)
        assert [h["status"] for h in ws.history(vid, 4)] == ["flag", "accept", "flag", "cleared"]


def test_clearing_on_a_missing_workspace_creates_nothing(tmp_path, volume_file, capsys):
    missing = tmp_path / "missing.sqlite"
    for extra in (["--status", "none"], ["--undo"]):
        assert main(["decide", str(volume_file), "--slice", "0", *extra, "--workspace", str(missing)]) == 2
        assert "no workspace here" in capsys.readouterr().err
    assert not missing.exists()


def test_decide_needs_a_status_or_undo(tmp_path, volume_file, capsys):
    db = tmp_path / "ws.sqlite"
    assert main(["decide", str(volume_file), "--slice", "0", "--workspace", str(db)]) == 2
    assert "--status" in capsys.readouterr().err
    assert main(["decide", str(volume_file), "--slice", "0", "--undo", "--status", "flag",
                 "--workspace", str(db)]) == 2
    assert "not both" in capsys.readouterr().err
