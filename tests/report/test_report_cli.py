"""``ctreview report``: the same report from the command line."""
import csv

from review_data import DEFECT_SLICES, make_array, write_tiff

from ctreview.cli import main


def test_report_writes_pdf_csv_json(reviewed, capsys):
    ws_path = str(reviewed.workspace.path)
    out = reviewed.out
    moved = reviewed.path.rename(reviewed.path.with_name("renamed.tif"))  # found by content
    assert main(["report", str(moved), "--out", str(out / "r.pdf"), "--csv", str(out / "r.csv"),
                 "--json", str(out / "r.json"), "--workspace", ws_path]) == 0
    line = capsys.readouterr().out
    assert f"{len(DEFECT_SLICES)} flagged" in line and "24 slices scored" in line
    assert (out / "r.pdf").read_bytes()[:5] == b"%PDF-"
    with open(out / "r.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 24
    assert reviewed.workspace.volume_info(reviewed.volume_id)["path"] == str(moved)


def test_report_errors_are_one_line(reviewed, tmp_path, capsys):
    ws_path = str(reviewed.workspace.path)
    stranger = write_tiff(tmp_path / "stranger.tif", make_array(seed=7))
    cases = [(["report", str(stranger), "--out", str(tmp_path / "x.pdf")], "not in the workspace"),
             (["report", str(reviewed.path)], "nothing to write"),
             (["report", str(reviewed.path), "--csv", str(tmp_path / "x.csv"), "--run", "42"],
              "no scoring run 42"),
             (["report", str(reviewed.path), "--out", str(tmp_path)], "is a folder")]
    for argv, message in cases:
        assert main([*argv, "--workspace", ws_path]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "x.pdf").exists() and not (tmp_path / "x.csv").exists()
