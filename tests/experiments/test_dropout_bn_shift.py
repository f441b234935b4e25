"""dropout-bn-shift: BN learns the dropout-inflated variance; dropout after BN does not shift."""

from __future__ import annotations

EXPERIMENT = "dropout-bn-shift"


def test_checks_pass(quick, failing) -> None:
    assert quick.passed, failing(quick)


def test_shift_grows_as_p_over_one_minus_p(quick) -> None:
    before = {r["p"]: r for r in quick.rows if r["placement"] == "before"}
    extra = {p: r["bn_running_variance"] - r["test_variance"] for p, r in before.items()}
    # the dropout noise scales with p / (1 - p): 1/4 at p = 0.2, 1 at p = 0.5
    assert abs(extra[0.5] / extra[0.2] / 4 - 1) < 0.1
    assert before[0.5]["shift_ratio_measured"] < 0.5


def test_dropout_after_bn_has_no_shift(quick) -> None:
    for r in quick.rows:
        if r["placement"] == "after":
            assert abs(r["bn_running_variance"] / r["test_variance"] - 1) < 0.03
            assert abs(r["bn_eval_output_variance"] - 1) < 0.03
