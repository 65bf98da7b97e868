"""``ctreview report`` never writes over a file that is there unless --force."""
from ctreview.cli import main


def test_an_existing_file_is_refused_unchanged_and_force_replaces_it(reviewed, capsys):
    ws = str(reviewed.workspace.path)
    reviewed.out.mkdir()
    notes = reviewed.out / "notes.txt"
    notes.write_text("my notes\n")
    assert main(["report", str(reviewed.path), "--out", str(notes), "--workspace", ws]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {notes}: already exists; use --force to replace it\n"
    assert notes.read_text() == "my notes\n"

    assert main(["report", str(reviewed.path), "--out", str(notes), "--workspace", ws, "--force"]) == 0
    assert notes.read_bytes()[:5] == b"%PDF-"


def test_csv_json_and_the_defects_table_beside_the_csv_are_checked_before_anything_is_written(reviewed, capsys):
    ws, out = str(reviewed.workspace.path), reviewed.out
    out.mkdir()
    (out / "r_defects.csv").write_text("kept\n")
    for args in (["--csv", str(out / "r.csv")], ["--json", str(out / "r.json"), "--csv", str(out / "r.csv")]):
        assert main(["report", str(reviewed.path), *args, "--workspace", ws]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {out / 'r_defects.csv'}: already exists") and err.count("\n") == 1
    assert sorted(p.name for p in out.iterdir()) == ["r_defects.csv"]
    (out / "r.json").write_text("{}")
    assert main(["report", str(reviewed.path), "--json", str(out / "r.json"), "--workspace", ws]) == 2
    assert (out / "r.json").read_text() == "{}" and "r.json: already exists" in capsys.readouterr().err
