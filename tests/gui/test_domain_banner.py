"""The banner tells 'many slices above threshold' apart from 'a volume the model was not trained for'."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from ctreview.gui.notices import DomainBanner  # noqa: E402
from ctreview.model.domain import DomainCheck, check_scores, merge  # noqa: E402

OUTSIDE_REASON = ("outside the model's training domain: grey values inside the part 10-200 unlike its training "
                  "data (1000-20000). Its ranking is not reliable here: score with a model trained on this kind "
                  "of scan")


@pytest.fixture
def banner(qtbot) -> DomainBanner:
    widget = DomainBanner()
    qtbot.addWidget(widget)
    return widget


def test_a_run_with_most_slices_above_threshold_says_so(banner):
    run = merge(DomainCheck(), check_scores([1.7] * 30 + [0.3] * 2))
    banner.show_check(run.to_dict(), "tiny")
    text = banner.text.text()
    assert banner.isVisible() and text.startswith("⚠ Many slices above threshold: ")
    assert "not trained for" not in text and "kind of scan" not in text


def test_a_volume_unlike_the_training_data_says_the_model_was_not_trained_for_it(banner):
    check = DomainCheck(False, OUTSIDE_REASON, {}, 3.0, "outside")
    banner.show_check(check.to_dict(), "tiny")
    assert banner.isVisible()
    assert banner.text.text().startswith("⚠ The model 'tiny' scored a volume it was not trained for: grey values")
