"""effective-rf: the path count, sqrt(depth) growth, the theoretical field from summary."""

from __future__ import annotations

import math

import numpy as np

EXPERIMENT = "effective-rf"


def test_checks_pass(quick, failing) -> None:
    assert quick.passed, failing(quick)


def test_uniform_radius_is_the_multinomial_one(quick) -> None:
    for r in quick.rows:
        if r["kind"] != "uniform":
            continue
        depth = r["depth"]
        coef = np.polynomial.polynomial.polypow([1.0, 1.0, 1.0], depth) ** 2
        d = np.arange(-depth, depth + 1)
        assert abs(r["radius"] - math.sqrt((coef * d**2).sum() / coef.sum())) < 1e-12
        assert r["support_width"] == r["theoretical_rf"] == 2 * depth + 1


def test_radius_grows_like_sqrt_depth(quick) -> None:
    for kind in ("random linear", "random relu"):
        radius = {r["depth"]: r["radius"] for r in quick.rows if r["kind"] == kind}
        assert abs(radius[8] / radius[2] / 2 - 1) < 0.25  # sqrt(8 / 2) = 2
        for depth, value in radius.items():
            assert value < 2 * depth + 1  # far inside the theoretical field
