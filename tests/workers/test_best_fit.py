"""The model box offers the best-fitting model: inside its domain, the newest engine, then the nearest."""
from ctreview.workers.domain_tasks import best_fit


def test_the_newest_engine_inside_its_domain_wins_then_the_nearest():
    fits = {
        "anogan": {"ok": True, "distance": 0.2, "format_version": 1},
        "fused": {"ok": True, "distance": 0.6, "format_version": 2},
        "fused-near": {"ok": True, "distance": 0.4, "format_version": 2},
        "outside": {"ok": False, "distance": 0.0, "format_version": 2},
        "no-fingerprint": {"ok": True, "distance": None},
    }
    assert best_fit(fits, None) == "fused-near"
    assert best_fit(fits, "fused-near") is None  # already chosen: nothing to offer
    assert best_fit({k: fits[k] for k in ("anogan", "outside")}, None) == "anogan"
    assert best_fit({"outside": fits["outside"]}, None) is None
