"""Parameter names, shapes and outputs identical to torchvision's (weights=None, no download)."""

from __future__ import annotations

import pytest
import torch
import torchvision

from cnnlab.models import create_model

SHARED = [
    "alexnet",
    *[f"vgg{d}{bn}" for d in (11, 13, 16, 19) for bn in ("", "_bn")],
    *[f"resnet{d}" for d in (18, 34, 50, 101, 152)],
    *[f"shufflenet_v2_x{w}" for w in ("0_5", "1_0", "1_5", "2_0")],
]


def _torchvision(name: str, **kwargs: int) -> torch.nn.Module:
    return getattr(torchvision.models, name)(weights=None, **kwargs)


@pytest.mark.parametrize("name", SHARED)
def test_state_dict_names_and_shapes_match_torchvision(name: str) -> None:
    # Built on the meta device: no memory, no initialisation, so all 22 models are cheap.
    with torch.device("meta"):
        ours = create_model(name, num_classes=10)
        theirs = _torchvision(name, num_classes=10)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    assert {k: v.shape for k, v in ours_sd.items()} == {k: v.shape for k, v in theirs_sd.items()}
    ours.load_state_dict(theirs_sd, strict=True)


# One of each structure: plain features, BN features, basic block, bottleneck, shuffle unit.
@pytest.mark.parametrize(
    "name", ["alexnet", "vgg11_bn", "resnet18", "resnet50", "shufflenet_v2_x0_5"]
)
def test_torchvision_weights_give_identical_outputs(name: str) -> None:
    torch.manual_seed(0)
    theirs = _torchvision(name, num_classes=10).eval()
    # Skip our own random initialisation (VGG's 100M-weight fc6 is slow to fill): build on the
    # meta device and take torchvision's tensors (strict; names/shapes are tested above).
    with torch.device("meta"):
        ours = create_model(name, num_classes=10).eval()
    ours.load_state_dict(theirs.state_dict(), assign=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(ours(x), theirs(x))


def test_paper_layout_loads_torchvision_weights_but_strides_the_1x1() -> None:
    torch.manual_seed(0)
    theirs = _torchvision("resnet50").eval()
    paper = create_model("resnet50", stride_in_1x1=True).eval()
    paper.load_state_dict(theirs.state_dict())  # same names and shapes
    first = paper.layer2[0]
    assert first.conv1.stride == (2, 2) and first.conv2.stride == (1, 1)
    assert theirs.layer2[0].conv1.stride == (1, 1) and theirs.layer2[0].conv2.stride == (2, 2)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert not torch.allclose(paper(x), theirs(x))  # a different network, same weights
