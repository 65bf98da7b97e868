"""Deep-feature models of normality: pretrained ImageNet features, no training, only a fit.

Two families (Roth et al. 2022; Defard et al. 2021), both on the patch
features of a frozen backbone (:mod:`ctreview.model.nets.backbone`):

* :class:`PatchCore`: distance to the nearest patch in a coreset of normal
  patches, wherever it came from; for parts in any pose and image sets of
  mixed sizes;
* :class:`Padim`: Mahalanobis distance to a Gaussian per grid position;
  for aligned images of one size.

They see lists of grey images in [0, 1] (optionally several views per
image, masks and positions) and know nothing of volumes or ROIs::

    model = build_feature_model(FeatureSettings(coreset_ratio=0.1))
    model.fit(normal_images, masks)
    result = model.score(images, masks)     # result.scores (n,), result.maps [(y, x)]
    config, state = model.config(), model.state_dict()   # JSON dict + flat tensors
    again = load_feature_model(config, state)

The state is meant for ``safetensors.torch.save_file`` next to the config
in a model folder; :attr:`FeatureModel.nbytes` is its size.
"""
from __future__ import annotations

from pathlib import Path

import torch

from ctreview.errors import CtreviewError
from ctreview.model.features.extract import FeatureSettings, PatchFeatures
from ctreview.model.features.model import FORMAT, FORMAT_VERSION, FeatureModel, FeatureScores
from ctreview.model.features.padim import Padim
from ctreview.model.features.patchcore import PatchCore
from ctreview.model.nets.backbone import Backbone

MODELS: dict[str, type[FeatureModel]] = {"patchcore": PatchCore, "padim": Padim}

__all__ = ["FeatureModel", "FeatureScores", "FeatureSettings", "MODELS", "Padim", "PatchCore",
           "PatchFeatures", "build_feature_model", "load_feature_model"]


def build_feature_model(settings: FeatureSettings | None = None, *,
                        backbone: Backbone | None = None) -> FeatureModel:
    """An unfitted model of ``settings.method`` (PatchCore by default).

    Parameters
    ----------
    settings : FeatureSettings, optional
    backbone : Backbone, optional
        Share one loaded backbone between models; it must match the settings.
    """
    settings = settings or FeatureSettings()
    return MODELS[settings.method](settings, backbone=backbone)


def load_feature_model(config: dict, state: dict[str, torch.Tensor], *,
                       backbone: Backbone | None = None, path: str | Path | None = None) -> FeatureModel:
    """Rebuild a fitted model from :meth:`FeatureModel.config` and :meth:`FeatureModel.state_dict`.

    Parameters
    ----------
    config : dict
        As written by ``config()`` (read from JSON).
    state : dict of str -> Tensor
        As written by ``state_dict()`` (read with safetensors).
    backbone : Backbone, optional
    path : str or Path, optional
        Named in errors (the model folder).

    Raises
    ------
    CtreviewError
        Another format, a newer version, unknown settings or a state that does not fit.
    """
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise CtreviewError(path, "not a ctreview deep-feature model")
    if int(config.get("version", 0)) > FORMAT_VERSION:
        raise CtreviewError(path, f"feature model format {config.get('version')} is newer than this "
                                  f"ctreview reads ({FORMAT_VERSION}); update ctreview")
    try:
        settings = FeatureSettings.from_json(dict(config.get("settings") or {}))
        if config.get("kind") != settings.method:
            raise CtreviewError(None, f"kind {config.get('kind')!r} does not match method {settings.method!r}")
        model = build_feature_model(settings, backbone=backbone)
        model.load_state(state, config)
    except CtreviewError as exc:
        raise CtreviewError(path, exc.message) from exc
    except TypeError as exc:  # a setting of the wrong type in a hand-edited file
        raise CtreviewError(path, f"bad feature model settings ({exc})") from exc
    return model
