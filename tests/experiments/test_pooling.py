"""pooling: exact shift properties, and the parameters of a GAP head vs an fc head."""

from __future__ import annotations

import torch

from cnnlab.experiments.pooling import SmallCNN

EXPERIMENT = "pooling"


def test_checks_pass(quick, failing) -> None:
    assert quick.passed, failing(quick)


def test_no_shift_no_change(quick) -> None:
    for r in quick.rows:
        if r["shift"] == 0:
            assert r["relative_change"] == 0 and r["unchanged_fraction"] == 1


def test_head_parameters_by_counting() -> None:
    for head, expected in (("fc", 64 * 4 * 4 * 10 + 10), ("gap", 64 * 10 + 10)):
        model = SmallCNN(head)
        assert sum(p.numel() for p in model.head.parameters()) == expected


def test_max_pool_shift_equivariance_by_hand() -> None:
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    pooled = torch.nn.functional.max_pool2d(x, 2)
    shifted = torch.nn.functional.max_pool2d(torch.roll(x, 2, dims=3), 2)
    assert torch.equal(shifted, torch.roll(pooled, 1, dims=3))


def test_heads_in_results(quick, read_csv) -> None:
    heads = {r["head"]: r for r in read_csv(quick.csv_path.parent / "heads.csv")}
    assert int(heads["gap"]["head_params"]) == 650
    assert int(heads["fc"]["head_params"]) == 10250
