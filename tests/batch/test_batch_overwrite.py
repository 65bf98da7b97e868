"""A batch task never replaces a run folder of another volume without --force; its own it rescores."""
import json

from ctreview.batch.task import score_one
from ctreview.scoring import ScoringSettings

RUN_FILES = ("summary.json", "scores.csv", "heatmap.tif", "defects.csv")


def _job(volume, run_dir, model, **extra):
    settings = ScoringSettings(mode="fast").to_dict()
    return {"volume": str(volume), "run_dir": str(run_dir), "model_dir": str(model), "settings": settings,
            "key": "k", "device": "cpu", "threads": 1, "keep": None, "boxes": False, **extra}


def test_a_run_folder_of_another_volume_is_a_failed_row_and_left_whole(volumes, tiny_model, tmp_path):
    first, other = sorted(volumes.glob("*.tif"))[:2]
    run = tmp_path / "runs" / "scan"
    assert score_one(_job(first, run, tiny_model))["row"]["status"] == "done"
    before = {name: (run / name).read_bytes() for name in RUN_FILES}

    row = score_one(_job(other, run, tiny_model))["row"]
    assert row["status"] == "failed"
    assert row["error"].startswith(f"{run}: a run of another volume ({first}) exists; use --force")
    assert {name: (run / name).read_bytes() for name in RUN_FILES} == before

    assert score_one(_job(other, run, tiny_model, force=True))["row"]["status"] == "done"
    assert json.loads((run / "summary.json").read_text())["volume"]["path"] == str(other)


def test_its_own_run_is_rescored_with_new_settings(volumes, tiny_model, tmp_path):
    first = sorted(volumes.glob("*.tif"))[0]
    run = tmp_path / "runs" / "scan"
    assert score_one(_job(first, run, tiny_model))["row"]["status"] == "done"
    job = _job(first, run, tiny_model)
    job["settings"] = ScoringSettings(mode="fast", batch_size=3).to_dict()
    assert score_one(job)["row"]["status"] == "done"
    assert json.loads((run / "summary.json").read_text())["settings"]["batch_size"] == 3
