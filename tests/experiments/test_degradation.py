"""degradation: He et al.'s CIFAR layout, parameter counts, option-A shortcuts, the embedding."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlab.experiments.degradation import Block, CifarNet, embed

EXPERIMENT = "degradation"


def _numel(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_checks_pass(quick, failing) -> None:
    assert quick.passed, failing(quick)
    # 4 nets' counts, 5 ResNets of Table 6 (published and hand count), the embedding
    assert len(quick.checks) == 4 + 2 * 5 + 1


def test_results_tables(quick, read_csv) -> None:
    rows = read_csv(quick.csv_path)
    assert list(rows[0])[:4] == ["kind", "depth", "epoch", "lr"]
    assert {(r["kind"], int(r["depth"])) for r in rows} == {
        (k, d) for k in ("plain", "residual") for d in (8, 20)
    }
    final = read_csv(quick.csv_path.parent / "final.csv")
    for r in final:
        assert 0 <= float(r["train_error"]) <= 1 and 0 <= float(r["val_error"]) <= 1
    # the same parameters for the plain and the residual net of each depth
    params = {(r["kind"], r["depth"]): int(r["params"]) for r in final}
    assert params[("plain", "8")] == params[("residual", "8")]
    assert params[("plain", "20")] == params[("residual", "20")]


def test_resnet20_parameters_by_hand() -> None:
    # He et al.'s ResNet-20 for CIFAR-10 (3x32x32, widths 16/32/64; Table 6: 0.27M), counted
    # layer by layer: 3x3 convs without bias, BN scale + shift, the fc layer.
    stem = 3 * 9 * 16 + 2 * 16
    stage1 = 6 * (16 * 9 * 16 + 2 * 16)
    stage2 = (16 * 9 * 32 + 2 * 32) + 5 * (32 * 9 * 32 + 2 * 32)
    stage3 = (32 * 9 * 64 + 2 * 64) + 5 * (64 * 9 * 64 + 2 * 64)
    fc = 64 * 10 + 10
    expected = stem + stage1 + stage2 + stage3 + fc
    assert expected == 269_722
    for residual in (False, True):
        assert _numel(CifarNet(20, residual, 16, 3, 10)) == expected
    # Table 6 of He et al. (2016): 0.85M for ResNet-56
    assert round(_numel(CifarNet(56, True, 16, 3, 10)) / 1e6, 2) == 0.85


def test_plain_and_residual_share_parameter_names() -> None:
    plain, residual = CifarNet(14, False, 4), CifarNet(14, True, 4)
    residual.load_state_dict(plain.state_dict())  # strict: the same names and shapes
    x = torch.randn(2, 1, 14, 14, generator=torch.Generator().manual_seed(0))
    assert not torch.equal(plain(x), residual(x))  # the shortcuts change the function


def test_option_a_shortcut_by_hand() -> None:
    # With the residual branch zeroed, a block that halves the size and doubles the width
    # outputs relu(x subsampled by 2, zero-padded to the new channels).
    block = Block(3, 6, 2, residual=True).double()
    nn.init.zeros_(block.bn2.weight)
    x = torch.randn(2, 3, 7, 7, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    expected = torch.zeros(2, 6, 4, 4, dtype=torch.float64)
    for i in range(4):
        for j in range(4):
            expected[:, :3, i, j] = x[:, :, 2 * i, 2 * j]
    assert torch.equal(block(x), torch.relu(expected))


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_deeper_residual_net_contains_the_shallower(mode: str) -> None:
    torch.manual_seed(0)
    shallow, deep = CifarNet(8, True, 4).double(), CifarNet(26, True, 4).double()
    # give the shallow net non-trivial running statistics and BN parameters
    for m in shallow.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            m.weight.data.uniform_(0.5, 2)
    embed(shallow, deep)
    shallow.train(mode == "train")
    deep.train(mode == "train")
    x = torch.randn(4, 1, 14, 14, dtype=torch.float64)
    assert torch.equal(shallow(x), deep(x))
    # a plain net with the same trick loses its input: zero BN means zero signal
    plain_deep = CifarNet(26, False, 4).double().train(mode == "train")
    for block in plain_deep.stages[0]:
        nn.init.zeros_(block.bn2.weight)
        nn.init.zeros_(block.bn2.bias)
    out = plain_deep(x)
    assert torch.allclose(out, out[:1].expand_as(out))  # the same output for every image


def test_depth_must_be_6n_plus_2() -> None:
    with pytest.raises(ValueError, match="6n \\+ 2"):
        CifarNet(10, True)
