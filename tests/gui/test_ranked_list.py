"""The ranked list fills live, stays on the selected slice while re-sorting, filters."""
from __future__ import annotations

import numpy as np

from ctreview.gui.ranked_model import RANK, SLICE, SLICE_ROLE
from ctreview.gui.session import ReviewSession
from ctreview.gui.slice_list import SliceList
from ctreview.io import Volume
from ctreview.results import SliceResult
from tests.gui.gui_helpers import fake_results


def _listed(widget: SliceList) -> list[int]:
    return widget.proxy.slices_in_order()


def _setup(qtbot):
    session = ReviewSession()
    widget = SliceList(session)
    qtbot.addWidget(widget)
    session.set_volume(Volume.from_array(np.zeros((20, 64, 64), np.uint16)))
    return session, widget


def test_list_fills_in_batches_ranked_by_score(qtbot):
    session, widget = _setup(qtbot)
    results = fake_results(20)
    session.add_results(results[:7])
    session.add_results(results[7:])
    expected = [r.index for r in sorted(results, key=lambda r: (-r.score, r.index))]
    assert _listed(widget) == expected
    top = widget.proxy.index(0, RANK)
    assert widget.proxy.data(top) == "1"


def test_later_result_replaces_earlier_and_selection_stays(qtbot):
    session, widget = _setup(qtbot)
    results = fake_results(20)
    session.add_results(results)
    chosen = _listed(widget)[5]
    session.set_current(chosen)
    selected = widget.table.selectionModel().currentIndex()
    assert widget.proxy.data(selected.siblingAtColumn(SLICE), SLICE_ROLE) == chosen
    # the refined score of the lowest slice makes it the top one: rows re-sort
    lowest = _listed(widget)[-1]
    heat = np.zeros((64, 64), np.float32)
    session.add_results([SliceResult(lowest, 99.0, 99.0, (0, 0, 16, 16), [], heat, stage="refined")])
    assert _listed(widget)[0] == lowest
    assert widget.model.rowCount() == 20  # replaced, not added
    selected = widget.table.selectionModel().currentIndex()
    assert widget.proxy.data(selected.siblingAtColumn(SLICE), SLICE_ROLE) == chosen
    assert session.current == chosen


def test_threshold_filter_follows_the_session_threshold(qtbot):
    session, widget = _setup(qtbot)
    results = fake_results(20)
    session.add_results(results)
    widget.set_filter("above threshold")
    assert set(_listed(widget)) == {r.index for r in results if r.relative >= 1.0}
    session.set_threshold(1.5)
    assert set(_listed(widget)) == {r.index for r in results if r.relative >= 1.5}
    widget.set_filter("all")
    assert len(_listed(widget)) == 20
