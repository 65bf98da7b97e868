"""The review state without Qt: scores stream in, ranking, decide/undo through the real store, events."""
from __future__ import annotations

import numpy as np
import pytest
from review_data import DEFECT_SLICES, compute_results, scored_workspace

from ctreview.results import SliceResult, SliceScore
from ctreview.review import RecentHeatmaps, ReviewState, rank_slices, ranks


def _state(workspace, volume) -> ReviewState:
    state = ReviewState()
    state.workspace = workspace
    state.set_volume(volume)
    return state


def test_results_stream_in_and_the_ranking_follows_relative_scores(workspace, volume):
    state = _state(workspace, volume)
    changed = []
    state.scores_changed.connect(changed.append)
    results, _ = compute_results(volume)
    state.add_results(results[:10])
    state.add_results(results[10:])
    assert changed == [list(range(10)), list(range(10, len(results)))]
    ranked = state.ranked()
    assert ranked[:3] == sorted(DEFECT_SLICES, key=lambda k: -results[k].relative)
    assert ranked == rank_slices(state.scores.values())
    np.testing.assert_array_equal(state.heatmap(DEFECT_SLICES[0]), results[DEFECT_SLICES[0]].heatmap)


def test_a_refined_result_supersedes_and_reranks(workspace, volume):
    state = _state(workspace, volume)
    results, _ = compute_results(volume)
    state.add_results(results)
    low = state.ranked()[-1]
    heat = np.ones(volume.shape[1:], np.float32)
    state.add_results([SliceResult(low, 0.1, 99.0, (0, 0, 16, 16), [], heat, stage="refined")])
    assert state.ranked()[0] == low and state.scores[low].stage == "refined"


def test_decide_and_undo_go_to_the_workspace_and_back(workspace, volume):
    state = _state(workspace, volume)
    volume_id, run_id = scored_workspace(workspace, volume, flag=(), accept=())
    state.attach(volume_id, workspace.decisions(volume_id), run_id, workspace.run_scores(run_id))
    seen = []
    state.decision_changed.connect(seen.append)
    state.decide(5, "flag", "a void")
    state.decide(6, "accept")
    assert workspace.decisions(volume_id)[5]["status"] == "flag"   # committed at once
    assert state.status(5) == "flag" and state.can_undo()
    assert state.undo() == 6 and state.status(6) == ""
    assert 6 not in workspace.decisions(volume_id)
    assert state.undo() == 5 and state.undo() is None
    assert seen == [5, 6, 6, 5]


def test_attach_brings_back_the_stored_run_and_reads_heatmaps_from_the_store(workspace, volume):
    volume_id, run_id = scored_workspace(workspace, volume)
    state = _state(workspace, volume)
    resets = []
    state.scores_reset.connect(lambda: resets.append(1))
    state.attach(volume_id, workspace.decisions(volume_id), run_id, workspace.run_scores(run_id))
    assert resets == [1] and set(state.scores) == set(range(volume.shape[0]))
    assert state.status(DEFECT_SLICES[0]) == "flag"
    assert state.heatmap(DEFECT_SLICES[0]).shape == volume.shape[1:]   # read back from the store
    assert state.above_threshold() == sum(s.relative >= 1.0 for s in state.scores.values())


def test_ranks_put_non_finite_scores_last_and_break_ties_by_slice():
    scores = [SliceScore(0, 1.0, float("nan")), SliceScore(1, 2.0, 2.0), SliceScore(2, 3.0, 2.0),
              SliceScore(3, 0.5, 0.5)]
    assert rank_slices(scores) == [1, 2, 3, 0]
    assert ranks(scores) == {1: 1, 2: 2, 3: 3, 0: 4}


def test_recent_heatmaps_stay_within_their_budget():
    recent = RecentHeatmaps(budget_bytes=3 * 64 * 64 * 4)
    for k in range(5):
        recent.put(k, np.full((64, 64), k, np.float32))
    assert recent.get(0) is None and recent.get(4) is not None
    assert sum(recent.get(k) is not None for k in range(5)) == 3


def test_set_volume_clears_everything_of_the_last_one(workspace, volume):
    state = _state(workspace, volume)
    state.add_results(compute_results(volume)[0])
    state.set_current(3)
    state.set_volume(volume)
    assert state.scores == {} and state.volume_id is None and state.current == volume.shape[0] // 2
    with pytest.raises(AttributeError):
        state.no_such_thing  # noqa: B018 - the state has no hidden attributes


def test_a_scorers_own_map_can_be_shown_until_the_next_run(workspace, volume):
    from dataclasses import replace

    state = _state(workspace, volume)
    events = []
    state.maps_changed.connect(lambda: events.append(state.shown_map))
    results, _ = compute_results(volume)
    k = DEFECT_SLICES[0]
    own = {"head": np.full(volume.shape[1:], 3.0, np.float32), "features": np.zeros(volume.shape[1:], np.float32)}
    state.add_results([replace(r, maps=own) if r.index == k else r for r in results])
    assert state.map_names() == ["fused", "features", "head"] and events == ["fused"]
    state.set_shown_map("head")
    np.testing.assert_array_equal(state.heatmap(k), own["head"])
    assert state.heatmap(k + 1) is None  # that slice came without the scorer's map
    with pytest.raises(ValueError, match="no map 'paint'"):
        state.set_shown_map("paint")
    state.set_shown_map("fused")
    np.testing.assert_array_equal(state.heatmap(k), results[k].heatmap)
    state.set_shown_map("head")
    state.start_run(None)  # a new run: its maps, not the last one's
    assert state.map_names() == ["fused"] and state.shown_map == "fused"
    assert events == ["fused", "head", "fused", "head", "fused"]
