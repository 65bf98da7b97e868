"""Pretrained backbones: local weights, truncation, feature shapes, refusing unsafe or foreign files."""
import pickle
import socket

import pytest
import torch
from safetensors.torch import save_file

from ctreview.errors import CtreviewError
from ctreview.model.nets.backbone import BACKBONES, load_backbone, read_weights
from ctreview.model.nets.resnet import resnet18


class Payload:
    """A custom class: a pickle holding one must never be unpickled."""

    def __reduce__(self):
        return (print, ("unpickled!",))


@pytest.fixture(scope="module")
def lite0():
    return load_backbone(taps=("_blocks.10", "_blocks.4"))  # any order: finest first


def test_lite0_loads_from_the_local_wheel_without_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the backbone tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    path = BACKBONES["efficientnet-lite0"].weights()
    assert path.is_file() and path.suffix == ".pth"
    net = load_backbone("efficientnet-lite0")
    state = torch.load(path, map_location="cpu", weights_only=True)
    torch.testing.assert_close(net.body._blocks[4]._bn2.running_var, state["_blocks.4._bn2.running_var"])


def test_lite0_is_truncated_after_the_deepest_tap(lite0):
    assert lite0.taps == ("_blocks.4", "_blocks.10")
    assert len(lite0.body._blocks) == 11 and not hasattr(lite0.body, "_conv_head")
    assert lite0.strides == {"_blocks.4": 8, "_blocks.10": 16}
    assert lite0.channels == {"_blocks.4": 40, "_blocks.10": 112}
    default = load_backbone()
    assert default.taps == ("_blocks.4",) and len(default.body._blocks) == 5


def test_lite0_feature_shapes_and_frozen(lite0):
    images = torch.rand(2, 1, 61, 80, generator=torch.Generator().manual_seed(0))
    lite0.train()  # must stay in eval mode: BatchNorm keeps the ImageNet statistics
    maps = lite0(images)
    assert not lite0.training
    assert maps["_blocks.4"].shape == (2, 40, 8, 10) and maps["_blocks.10"].shape == (2, 112, 4, 5)
    assert not maps["_blocks.4"].requires_grad
    again = lite0(images[:1])  # per image: no batch statistics leak between images
    torch.testing.assert_close(again["_blocks.10"], maps["_blocks.10"][:1], atol=1e-4, rtol=1e-4)


def test_grey_input_must_be_one_channel(lite0):
    with pytest.raises(ValueError, match="grey"):
        lite0(torch.rand(1, 3, 32, 32))


def test_resnet18_from_a_user_safetensors_file(tmp_path):
    torch.manual_seed(0)
    net = resnet18()
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    state["fc.weight"], state["fc.bias"] = torch.zeros(1000, 512), torch.zeros(1000)  # ignored
    save_file(state, tmp_path / "r18.safetensors")
    backbone = load_backbone("resnet18", weights=tmp_path / "r18.safetensors")
    assert backbone.taps == ("layer2", "layer3") and not hasattr(backbone.body, "layer4")
    maps = backbone(torch.rand(1, 1, 64, 48))
    assert maps["layer2"].shape == (1, 128, 8, 6) and maps["layer3"].shape == (1, 256, 4, 3)


def test_resnet_without_weights_and_unknown_names_are_user_errors():
    with pytest.raises(CtreviewError, match="--weights"):
        load_backbone("wide_resnet50_2")
    with pytest.raises(CtreviewError, match="unknown backbone"):
        load_backbone("vgg16")
    with pytest.raises(CtreviewError, match="taps are"):
        load_backbone(taps=("layer2",))


def test_foreign_and_misshapen_weights_are_refused(tmp_path):
    save_file({"encoder.weight": torch.zeros(3, 3)}, tmp_path / "other.safetensors")
    with pytest.raises(CtreviewError, match="not efficientnet-lite0 weights.*missing") as info:
        load_backbone(weights=tmp_path / "other.safetensors")
    assert info.value.path.endswith("other.safetensors")
    state = dict(torch.load(BACKBONES["efficientnet-lite0"].weights(), weights_only=True))
    state["_blocks.2._bn0.weight"] = torch.zeros(7)
    torch.save(state, tmp_path / "bad.pth")
    with pytest.raises(CtreviewError, match=r"_blocks.2._bn0.weight has shape \(7,\)"):
        load_backbone(weights=tmp_path / "bad.pth")


def test_pickles_with_custom_classes_are_never_unpickled(tmp_path, capsys):
    torch.save({"_conv_stem.weight": torch.zeros(1), "extra": Payload()}, tmp_path / "evil.pth")
    with open(tmp_path / "evil.pt", "wb") as fh:
        pickle.dump(Payload(), fh)
    for name in ("evil.pth", "evil.pt"):
        with pytest.raises(CtreviewError, match="weights_only"):
            read_weights(tmp_path / name)
    assert "unpickled!" not in capsys.readouterr().out


def test_other_suffixes_truncated_and_missing_files_are_refused(tmp_path):
    (tmp_path / "w.npz").write_bytes(b"PK\x03\x04")
    with pytest.raises(CtreviewError, match="must be a .safetensors"):
        read_weights(tmp_path / "w.npz")
    save_file({"a": torch.zeros(100)}, tmp_path / "t.safetensors")
    data = (tmp_path / "t.safetensors").read_bytes()
    (tmp_path / "t.safetensors").write_bytes(data[:len(data) // 2])
    with pytest.raises(CtreviewError, match="safetensors"):
        read_weights(tmp_path / "t.safetensors")
    with pytest.raises(CtreviewError, match="no such"):
        read_weights(tmp_path / "absent.pth")
    torch.save([torch.zeros(1)], tmp_path / "list.pth")
    with pytest.raises(CtreviewError, match="not a state dict"):
        read_weights(tmp_path / "list.pth")
