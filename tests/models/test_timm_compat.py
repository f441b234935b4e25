"""State-dict keys, shapes and outputs identical to timm's (``pretrained=False``, no download)."""

from __future__ import annotations

import pytest
import timm
import torch
from torch import nn

from cnnlab.models import create_model

# Our registry name -> timm's model name.
TIMM = {
    "xception": "legacy_xception",
    "inception_v4": "inception_v4",
    "inception_resnet_v2": "inception_resnet_v2",
    "skresnet18": "skresnet18",
    "skresnet34": "skresnet34",
    "skresnext50_32x4d": "skresnext50_32x4d",
}


def _timm(name: str) -> nn.Module:
    return timm.create_model(TIMM[name], pretrained=False, num_classes=10)


@pytest.mark.parametrize("name", list(TIMM))
def test_state_dict_keys_and_shapes_match_timm(name: str) -> None:
    with torch.device("meta"):
        ours = create_model(name, num_classes=10)
        theirs = _timm(name)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    assert {k: v.shape for k, v in ours_sd.items()} == {k: v.shape for k, v in theirs_sd.items()}
    ours.load_state_dict(theirs_sd, strict=True)


# One numeric forward per family; Inception-v4 and Inception-ResNet-v2 need 75 pixels.
@pytest.mark.parametrize(
    ("name", "side"),
    [
        ("xception", 64),
        ("inception_v4", 75),
        ("inception_resnet_v2", 75),
        ("skresnet18", 64),
        ("skresnext50_32x4d", 64),
    ],
)
def test_timm_weights_give_identical_outputs(name: str, side: int) -> None:
    torch.manual_seed(0)
    theirs = _timm(name).eval()
    with torch.device("meta"):
        ours = create_model(name, num_classes=10).eval()
    ours.load_state_dict(theirs.state_dict(), assign=True, strict=True)
    x = torch.randn(2, 3, side, side)
    with torch.no_grad():
        assert torch.equal(ours(x), theirs(x))


def test_xception_has_the_papers_parameter_count() -> None:
    # Chollet 2017, Table 3: Xception has 22,855,952 parameters (timm's legacy_xception too).
    with torch.device("meta"):
        model = create_model("xception")
    assert sum(p.numel() for p in model.parameters()) == 22_855_952
