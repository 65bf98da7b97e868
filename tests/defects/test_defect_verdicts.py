"""Where a defect's decision comes from: made on it, all its slices, or carried from the same object."""
from ctreview.defects import Defect, DefectVerdict, carried_verdicts, defect_note, defect_verdict, same_object


def _defect(id_, z0, z1, y0=10, y1=20, x0=10, x1=20):
    return Defect(id=id_, rank=id_, z0=z0, z1=z1, y0=y0, y1=y1, x0=x0, x1=x1, centroid_z=z0, centroid_y=y0,
                  centroid_x=x0, centroid_z_mm=z0, centroid_y_mm=y0, centroid_x_mm=x0, voxels=8, volume_mm3=1.0,
                  diameter_mm=1.0, peak=2.0, mean=1.5, peak_slice=z0, peak_y=y0, peak_x=x0)


def _row(id_, status, note="", run_id=1):
    return {"id": id_, "status": status, "note": note, "run_id": run_id}


def test_a_decision_made_on_the_defect_is_its_own_and_only_in_its_run():
    d = _defect(3, 5, 8)
    rows = {5: _row(1, "flag", defect_note(3, "crack")), 6: _row(2, "flag", defect_note(3)), 7: _row(3, "accept")}
    assert defect_verdict(d, rows, run_id=1) == DefectVerdict("flag", "defect")
    assert defect_verdict(d, rows, run_id=2).status == ""  # defect 3 of run 1 is not defect 3 of run 2
    assert defect_verdict(_defect(4, 5, 8), rows, run_id=1).status == ""  # another defect on those slices


def test_slices_decide_a_defect_only_when_every_one_agrees():
    d = _defect(1, 5, 8)
    assert defect_verdict(d, {6: _row(1, "flag")}) == DefectVerdict("", "")
    assert defect_verdict(d, {5: _row(1, "flag"), 6: _row(2, "accept"), 7: _row(3, "flag")}).source == "mixed"
    agreed = defect_verdict(d, {k: _row(k, "unsure") for k in (5, 6, 7)})
    assert agreed == DefectVerdict("unsure", "slices") and agreed.origin == "from its slices"


def test_a_decision_carries_to_the_same_object_of_another_run_only():
    decided = _defect(2, 5, 8)
    rows = {k: _row(k, "accept", defect_note(2), run_id=7) for k in (5, 6, 7)}
    same, elsewhere = _defect(1, 5, 9), _defect(2, 5, 8, 40, 50, 40, 50)
    assert same_object(same, decided) and not same_object(elsewhere, decided)
    carried = carried_verdicts([same, elsewhere], rows, 9, lambda run: [decided] if run == 7 else None)
    assert carried == {1: DefectVerdict("accept", "carried", 7)}
    assert defect_verdict(same, rows, run_id=9, carried=carried).origin == "carried from run 7"
    assert defect_verdict(elsewhere, rows, run_id=9, carried=carried).status == ""
