"""LeNet-5 (LeCun et al. 1998) against the paper's layer sizes and parameter counts."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlab.core.validate import InvalidArgument
from cnnlab.models import create_model

# LeCun et al. 1998, Sec. II.B: trainable parameters per layer of LeNet-5.
PAPER = {"C1": 156, "S2": 12, "C3": 1516, "S4": 32, "C5": 48120, "F6": 10164}
# Table I: which of S2's 6 maps each of C3's 16 maps sees (6 see 3, 9 see 4, 1 sees all 6).
TABLE_I_INPUTS = [3] * 6 + [4] * 9 + [6]


def test_the_papers_parameters_add_up_to_60000() -> None:
    # C3 by hand from Table I: 5x5 weights per connected input map, one bias per map
    assert sum(25 * k for k in TABLE_I_INPUTS) + 16 == PAPER["C3"]
    assert PAPER["S2"] == 6 * 2 and PAPER["S4"] == 16 * 2  # a coefficient and a bias per map
    assert sum(PAPER.values()) == 60_000  # "about 60,000 trainable parameters"


def test_parameters_layer_by_layer_against_the_paper_and_a_hand_count() -> None:
    with torch.device("meta"):
        model = create_model("lenet5")
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    c1, c3 = (count(m) for m in convs)
    c5, f6, out = (count(m) for m in linears)
    assert (c1, c5, f6) == (PAPER["C1"], PAPER["C5"], PAPER["F6"])  # the same layers
    assert c3 == 6 * 16 * 25 + 16 == 2416  # C3 fully connected instead of Table I
    assert out == 84 * 10 + 10 == 850  # a linear output instead of the fixed RBF centres
    total = sum(p.numel() for p in model.parameters())
    assert total == 61_706
    paper_trainable = sum(PAPER.values())
    assert total == paper_trainable - PAPER["C3"] - PAPER["S2"] - PAPER["S4"] + c3 + out


def test_feature_maps_have_the_papers_sizes() -> None:
    shapes = []
    model = create_model("lenet5").eval()
    for m in model.features:
        m.register_forward_hook(lambda mod, args, out: shapes.append(tuple(out.shape[1:])))
    with torch.no_grad():
        assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    # C1 6@28x28, S2 6@14x14, C3 16@10x10, S4 16@5x5 (each after its activation too)
    assert shapes[0] == (6, 28, 28) and shapes[2] == (6, 14, 14)
    assert shapes[3] == (16, 10, 10) and shapes[5] == (16, 5, 5)


def test_the_papers_32x32_input_without_padding_gives_the_same_maps() -> None:
    padded = create_model("lenet5")
    unpadded = create_model("lenet5", pad_input=False)
    unpadded.load_state_dict(padded.state_dict())
    x = torch.randn(3, 1, 28, 28)
    with torch.no_grad():  # padding the digit to 32x32 by hand is C1's padding=2
        torch.testing.assert_close(unpadded(nn.functional.pad(x, (2, 2, 2, 2))), padded(x))


def test_no_batch_norm_and_the_1998_options() -> None:
    model = create_model("lenet5", act="tanh", pool="avg", num_classes=7, in_chans=3)
    kinds = {type(m) for m in model.modules()}
    assert nn.Tanh in kinds and nn.AvgPool2d in kinds
    norms = (nn.BatchNorm2d, nn.BatchNorm1d, nn.GroupNorm, nn.LayerNorm, nn.LocalResponseNorm)
    assert not any(issubclass(k, norms) for k in kinds)
    assert model(torch.zeros(1, 3, 28, 28)).shape == (1, 7)
    with pytest.raises(InvalidArgument, match=r"act must be one of .*did you mean relu"):
        create_model("lenet5", act="rellu")


def test_macs_against_fvcore(macs) -> None:
    # By hand: C1 6*25*28*28, C3 16*6*25*10*10, then the three linear layers.
    by_hand = 6 * 25 * 28 * 28 + 16 * 6 * 25 * 10 * 10 + 400 * 120 + 120 * 84 + 84 * 10
    assert macs(create_model("lenet5"), (1, 28, 28)) == by_hand == 416_520
