"""saddle: the Hessian at the saddle and the escape time of gradient descent."""

from __future__ import annotations

import math

import numpy as np

from cnnlab.scratch.optim.landscapes import LANDSCAPES

EXPERIMENT = "saddle"


def test_checks_pass(quick, failing) -> None:
    assert quick.passed, failing(quick)


def test_hessian_by_finite_differences() -> None:
    grad = LANDSCAPES["saddle"].grad
    h = 1e-5
    hess = np.array(
        [
            (np.array(grad(h, 0.0)) - np.array(grad(-h, 0.0))) / (2 * h),
            (np.array(grad(0.0, h)) - np.array(grad(0.0, -h))) / (2 * h),
        ]
    )
    assert np.allclose(np.linalg.eigvalsh(hess), [-2.0, 2.0], atol=1e-8)


def test_gradient_descent_leaves_at_the_rate_of_the_negative_eigenvalue(quick) -> None:
    by = {r["optimizer"]: r for r in quick.rows}
    assert len(by) == 12
    lr, y0 = by["sgd"]["lr"], LANDSCAPES["saddle"].start[1]
    # y_t = y_0 (1 + 2 lr)^t near the saddle: |y| reaches 0.1 at t = log(0.1 / y0) / log(1 + 2 lr)
    t = math.log(0.1 / y0) / math.log(1 + 2 * lr)
    assert math.ceil(t) <= by["sgd"]["steps_to_leave"] <= math.ceil(t) + 1
    assert by["minibatch"]["steps_to_leave"] == by["sgd"]["steps_to_leave"]
    # adaptive methods divide the tiny gradient by its own size
    for name in ("adam", "rmsprop", "adagrad"):
        assert by[name]["steps_to_leave"] < by["sgd"]["steps_to_leave"] / 5
