"""``ctreview decide``: scripted decisions into the same workspace."""
from ctreview.cli import main
from ctreview.review import Workspace


def test_decide_registers_the_volume_and_records(tmp_path, volume_file, volume, capsys):
    db = tmp_path / "ws.sqlite"
    assert main(["decide", str(volume_file), "--slice", "3", "--status", "flag",
                 "--note", "void near pin 2", "--reviewer", "dana", "--workspace", str(db)]) == 0
    assert "slice 3: flag by dana" in capsys.readouterr().out
    assert main(["decide", str(volume_file), "--slice", "3", "--status", "Accept",
                 "--workspace", str(db)]) == 0
    with Workspace(db) as ws:
        volume_id = ws.find_volume(volume)
        assert volume_id is not None
        assert [(h["status"], h["note"]) for h in ws.history(volume_id, 3)] == [
            ("flag", "void near pin 2"), ("accept", "")]
        assert ws.decisions(volume_id)[3]["status"] == "accept"


def test_decide_uses_the_default_workspace(volume_file, private_data_dir):
    assert main(["decide", str(volume_file), "--slice", "0", "--status", "unsure"]) == 0
    with Workspace(private_data_dir / "workspace.sqlite") as ws:
        assert [d["status"] for d in ws.decisions(1).values()] == ["unsure"]


def test_decide_errors_are_one_line(tmp_path, volume_file, capsys):
    db = tmp_path / "ws.sqlite"
    cases = [(["--slice", "24", "--status", "flag"], "out of range"),
             (["--slice", "-1", "--status", "flag"], "out of range"),
             (["--slice", "2", "--status", "reject"], "unknown status 'reject'")]
    for extra, message in cases:
        assert main(["decide", str(volume_file), *extra, "--workspace", str(db)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert main(["decide", str(tmp_path / "nope.tif"), "--slice", "0", "--status", "flag",
                 "--workspace", str(db)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"\x00garbage" * 100)
    assert main(["decide", str(volume_file), "--slice", "0", "--status", "flag",
                 "--workspace", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}: ") and err.count("\n") == 1


def test_decide_stores_an_absolute_path(tmp_path, volume_file, volume, monkeypatch):
    monkeypatch.chdir(volume_file.parent)
    db = tmp_path / "ws.sqlite"
    assert main(["decide", volume_file.name, "--slice", "1", "--status", "accept",
                 "--workspace", str(db)]) == 0
    with Workspace(db) as ws:
        assert ws.volume_info(ws.find_volume(volume))["path"] == str(volume_file.absolute())
