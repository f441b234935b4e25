"""depth-width: equal-parameter designs, parameters and MACs against numel and fvcore."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from cnnlab.experiments.depth_width import Design, StagedCNN, design_for, hand_counts

EXPERIMENT = "depth-width"


def _fvcore_macs(model: nn.Module, size: tuple[int, int, int]) -> int:
    """Conv and linear multiply-adds by fvcore (an independent tracer)."""
    model.eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fvcore.nn import FlopCountAnalysis

        analysis = FlopCountAnalysis(model, torch.zeros(1, *size))
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        by_op = analysis.by_operator()
    return int(sum(v for k, v in by_op.items() if k in ("conv", "linear", "addmm")))


def test_checks_pass(quick, failing) -> None:
    assert quick.passed, failing(quick)
    assert len(quick.checks) == 2 * 2 + 1  # params and MACs of 2 designs, the budget


def test_results(quick, read_csv) -> None:
    rows = read_csv(quick.csv_path)
    assert list(rows[0])[:4] == ["depth", "widths", "seed", "params"]
    assert sorted({int(r["depth"]) for r in rows}) == [3, 12]
    assert len(rows) == 2 * 2  # 2 depths x 2 seeds in the quick run
    designs = read_csv(quick.csv_path.parent / "designs.csv")
    assert [int(d["depth"]) for d in designs] == [3, 12]


@pytest.mark.parametrize("per_stage", [1, 2, 4, 8], ids=lambda k: f"{3 * k}-layers")
def test_counts_against_numel_and_fvcore(per_stage: int) -> None:
    design = design_for(per_stage, 20_000)
    model = StagedCNN(per_stage, design.widths)
    params, macs = hand_counts(design)
    assert params == sum(p.numel() for p in model.parameters())
    assert macs == _fvcore_macs(model, (1, 14, 14))
    assert abs(params / 20_000 - 1) < 0.03
    assert model(torch.zeros(2, 1, 14, 14)).shape == (2, 10)


def test_designs_get_narrower_as_they_get_deeper() -> None:
    designs = [design_for(k, 20_000) for k in (1, 2, 4, 8)]
    assert [d.depth for d in designs] == [3, 6, 12, 24]
    firsts = [d.widths[0] for d in designs]
    assert firsts == sorted(firsts, reverse=True) and firsts[0] > 2 * firsts[-1]
    # hand count for the shallowest: 9 w1 + 2 w1 + 9 w1 w2 + 2 w2 + 9 w2 w3 + 2 w3 + 10 w3 + 10
    w1, w2, w3 = designs[0].widths
    assert hand_counts(Design(1, (w1, w2, w3)))[0] == (
        9 * w1 + 2 * w1 + 9 * w1 * w2 + 2 * w2 + 9 * w2 * w3 + 2 * w3 + 10 * w3 + 10
    )
