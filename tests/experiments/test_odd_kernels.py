"""odd-kernels: even kernels with 'same' padding move the field by half a pixel per layer."""

from __future__ import annotations

from fractions import Fraction

import torch

EXPERIMENT = "odd-kernels"


def test_checks_pass(quick, failing) -> None:
    assert quick.passed, failing(quick)


def test_rf_start_and_centroid(quick) -> None:
    assert {r["kernel_size"] for r in quick.rows} == {2, 3, 4, 5}
    for r in quick.rows:
        expected = Fraction(r["layers"], 2) if r["kernel_size"] % 2 == 0 else Fraction(0)
        assert Fraction(r["rf_start_exact"]) == expected
        assert abs(r["centroid_shift_x"] + float(expected)) < 1e-9
        assert abs(r["centroid_shift_y"] + float(expected)) < 1e-9


def test_even_same_padding_pads_after() -> None:
    # torch's 'same' for k = 2 pads 0 before and 1 after: output i sees inputs i and i + 1.
    conv = torch.nn.Conv1d(1, 1, 2, padding="same", bias=False)
    torch.nn.init.ones_(conv.weight)
    x = torch.zeros(1, 1, 7)
    x[0, 0, 3] = 1.0
    assert torch.nonzero(conv(x)[0, 0]).flatten().tolist() == [2, 3]
