"""AnoGAN models of format 1, scored as fused models with one AnoGAN scorer.

A format-1 model folder holds one DCGAN AnoGAN + encoder and the thresholds
it was calibrated with, for the statistic it was calibrated for
(``z-contrast``: the residual against the same pixels ``gap``..``reach``
slices up and down; ``tile``: per-tile z-scores). Here it becomes a
:class:`~ctreview.model.detector.Detector` whose one scorer computes that
statistic and whose fusion divides by that threshold, so one scoring pass
serves every model.
"""
from __future__ import annotations

from ctreview.model.anogan.anomaly import AnomalyModel
from ctreview.model.detector import Detector, Fusion
from ctreview.model.scorers.anogan_scorer import AnoganScorer


def format1_note(model: AnomalyModel) -> str:
    """The one line that says how a format-1 model is scored."""
    name = model.meta.get("name") or (model.path.name if model.path else "?")
    return f"model {name} is an AnoGAN model of format 1: scored as a fused model with one AnoGAN scorer"


def contrast_offsets(gap: int, reach: int) -> tuple[int, ...]:
    """The context offsets of the z-contrast: ``-reach..-gap`` and ``gap..reach``."""
    return tuple(range(-reach, -gap + 1)) + tuple(range(gap, reach + 1))


def format1_detector(model: AnomalyModel) -> Detector:
    """Wrap a format-1 AnoGAN as a fused model with one scorer, ``"anogan"``, scored as it was calibrated.

    The fusion's threshold is the model's ``fast`` (encoder) threshold, so slice
    scores keep the units they had; :attr:`Detector.notes` says what happened.
    """
    statistic = model.statistic
    offsets: tuple[int, ...] = ()
    if statistic == "z-contrast":
        cal = model.meta["calibration"]["contrast"]
        offsets = contrast_offsets(int(cal.get("gap", 3)), int(cal.get("reach", 6)))
    scorer = AnoganScorer(model, statistic=statistic)
    fusion = Fusion(rule="max", scales={"anogan": 1.0}, threshold=model.threshold_for("fast"),
                    fpr=float(model.meta.get("calibration", {}).get("fpr", 0.01)))
    detector = Detector({"anogan": scorer}, fusion, offsets=offsets, layout="volume", profile=model.profile,
                        tile_size=model.tile_size, meta=model.meta, device=model.device)
    detector.statistic = statistic
    detector.notes.append(format1_note(model))
    return detector
