"""Every setting of a fused model's training, declared once (stored whole in ``model.json``)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

SCORERS = ("features", "head", "anogan", "atlas")
FUSIONS = ("max", "mean")


def _features() -> Any:
    from ctreview.model.features.extract import FeatureSettings

    # the part's major axis has no sign: a half-turned copy of every normal slice joins the bank
    return FeatureSettings(rotations=(180.0,))


def _head() -> Any:
    from ctreview.training.head_train import HeadTrainSettings

    return HeadTrainSettings()


def _atlas() -> Any:
    from ctreview.atlas.settings import AtlasSettings

    return AtlasSettings()


def _anogan() -> Any:
    from ctreview.training.cond_gan_settings import CondGanSettings

    return CondGanSettings()


@dataclass(frozen=True)
class DetectorSettings:
    """How a fused model is trained.

    Attributes
    ----------
    scorers : tuple of str
        Scorer families, from :data:`SCORERS`. The conditioned AnoGAN is one of
        the defaults: its training adds about 1.5 CPU minutes on six 64 x 128 x 128
        phantoms with one thread (BENCHMARKS.md).
    offsets : tuple of int
        Context slices along z every scorer may use (none for images).
    fusion : str
        ``"max"`` or ``"mean"`` of the scorers' scaled maps.
    fusion_weights : tuple of (str, float)
        The heatmap mean's weight of a scorer family (1.0 for those not
        named). The AnoGAN weighs a half: its residual localises defects well
        (pixel AUROC with it 0.992 and 0.984 on the dev transformer and
        capacitor, 0.984 and 0.980 without; bench/results/fusion-weights.md).
    slice_weights : tuple of (str, float) or None
        The weights of the map a slice's score is taken from (1.0 for those not
        named); None: the heatmap's (``fusion_weights``). See :class:`~ctreview.model.detector.Fusion`.
        The AnoGAN weighs a tenth: its slice maxima rank slices poorly (slice AUROC
        0.77 and 0.70 alone), and every larger share cost the dev capacitor more than
        0.005 slice AUROC (a quarter 0.013, a half 0.023), a tenth 0.004 while the
        transformer gained 0.003. Chosen on the dev phantoms only.
    slice_top : int
        A slice's score is the mean of the top ``slice_top`` ROI pixels of that map (1: its maximum;
        the means of the top 4, 16 or 64 ranked no better on the dev phantoms).
    height_curves : bool
        Divide each scorer's map by how much normal slices at that height of
        the part score (held-out normal slices), so the part's ends and
        transitions do not outrank defects elsewhere (volumes only). Off by
        default: on the dev transformer set it cost 0.02-0.05 slice AUROC
        (bench/explore_fusion.py), the held-out slices per height being too few.
    holdout : float
        Share of the normal volumes (or slices, with one volume) kept out of
        every fit, for the thresholds.
    fpr : float
        Share of held-out normal slices allowed above each threshold.
    percentiles : (float, float)
        ROI grey values mapped to the features' [0, 1] window.
    tile_size : int
        Tiles of the ROI (the head trains on them; the AnoGAN scores them).
    max_side : int
        Working scale: volumes are binned until the largest training part is at most this many
        pixels across (:mod:`ctreview.roi.scale`); scoring bins every scan to the same scale.
    binning : int or None
        Force the reference scan's in-plane binning (1: full resolution); z follows the voxels' shape.
    memory : int or None
        Bytes the training may hold in its largest structures (the features' patch bank above all);
        None: a share of this machine's memory (:func:`ctreview.training.memory.default_budget`).
    features, feature_context, feature_align
        The deep-feature model (:class:`~ctreview.model.feat_extract.FeatureSettings`),
        whether the context slices are extra views of it, and whether each slice
        is turned into the part's frame first (volumes only; images have no pose).
    head
        :class:`~ctreview.training.head_train.HeadTrainSettings`.
    anogan
        :class:`~ctreview.training.cond_gan_settings.CondGanSettings` of the
        context-conditioned AnoGAN scorer (its ``tile_size`` follows ``tile_size``).
    atlas
        :class:`~ctreview.atlas.AtlasSettings` of the atlas (nominal/actual) scorer:
        not a default scorer yet; volumes only, at least three normal volumes.
    seed : int
    """

    scorers: tuple[str, ...] = ("features", "head", "anogan")
    offsets: tuple[int, ...] = (-6, -3, 3, 6)
    fusion: str = "mean"
    fusion_weights: tuple[tuple[str, float], ...] = (("anogan", 0.5),)
    slice_weights: tuple[tuple[str, float], ...] | None = (("anogan", 0.1),)
    slice_top: int = 1
    height_curves: bool = False
    holdout: float = 0.25
    fpr: float = 0.01
    percentiles: tuple[float, float] = (0.5, 99.5)
    tile_size: int = 64
    # the cell scan (630 px) bins 4x and its 100 slices score in 25 slices' time; the phantoms (~100 px) never bin
    max_side: int = 192
    binning: int | None = None
    memory: int | None = None
    features: Any = field(default_factory=_features)
    feature_context: bool = False
    feature_align: bool = True
    head: Any = field(default_factory=_head)
    anogan: Any = field(default_factory=_anogan)
    atlas: Any = field(default_factory=_atlas)
    seed: int = 0

    def __post_init__(self) -> None:
        from ctreview.errors import CtreviewError

        unknown = [s for s in self.scorers if s not in SCORERS]
        if unknown or not self.scorers:
            raise CtreviewError(None, f"scorers must be some of {', '.join(SCORERS)}, not {self.scorers!r}")
        if self.fusion not in FUSIONS:
            raise CtreviewError(None, f"fusion must be one of {', '.join(FUSIONS)}, not {self.fusion!r}")
        if not 0 < self.holdout < 1 or not 0 < self.fpr < 1:
            raise CtreviewError(None, "holdout and fpr must be between 0 and 1")
        if self.slice_top < 1:
            raise CtreviewError(None, f"slice_top must be at least 1, not {self.slice_top}")
        if self.max_side < 16 or (self.binning is not None and self.binning < 1):
            raise CtreviewError(None, "the working size must be at least 16 px and --binning at least 1")

    def with_offsets(self, offsets: tuple[int, ...]) -> DetectorSettings:
        """The same settings for inputs that carry ``offsets`` (none for independent images)."""
        return replace(self, offsets=tuple(offsets))


def detector_settings_from(values: Mapping[str, Any]) -> DetectorSettings:
    """Build the settings of a training request from plain values (the CLI's flags, the train dialog's fields).

    Keys, all optional (absent or None keeps the default): ``scorers`` (a
    tuple or a comma-separated string), ``fusion``, ``tile_size``, ``seed``,
    ``backbone``, ``weights``, ``head_iterations``, and ``anogan_<field>`` for
    any field of :class:`~ctreview.training.cond_gan_settings.CondGanSettings`;
    any other field of :class:`DetectorSettings` by its name.
    Both front ends go through here, so one request makes one model.
    """
    from ctreview.training.cond_gan_settings import CondGanSettings

    given = {k: v for k, v in values.items() if v is not None}
    base = DetectorSettings()
    scorers = given.get("scorers", base.scorers)
    if isinstance(scorers, str):
        scorers = tuple(s.strip() for s in scorers.split(",") if s.strip())
    tile_size = int(given.get("tile_size", base.tile_size))
    seed = int(given.get("seed", base.seed))
    head = replace(base.head, iterations=int(given.get("head_iterations", base.head.iterations)))
    names = {f.name for f in fields(CondGanSettings)}
    anogan = replace(base.anogan, tile_size=tile_size, seed=seed,
                     **{k[len("anogan_"):]: v for k, v in given.items()
                        if k.startswith("anogan_") and k[len("anogan_"):] in names})
    features = base.features
    if given.get("backbone") not in (None, features.backbone) or given.get("weights") is not None:
        features = replace(features, backbone=given.get("backbone", features.backbone), weights=given.get("weights"))
    # any other field of DetectorSettings given by name is taken as it is
    direct = {f.name: given[f.name] for f in fields(DetectorSettings)
              if f.name in given and f.name not in ("scorers", "fusion", "tile_size", "seed", "head", "anogan",
                                                    "features", "atlas")}
    return replace(base, scorers=tuple(scorers), fusion=str(given.get("fusion", base.fusion)), tile_size=tile_size,
                   seed=seed, head=head, anogan=anogan, features=features, **direct)
