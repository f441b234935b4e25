"""The shared validators: one wording, argument names swapped for flags by the CLI."""

from __future__ import annotations

import argparse
import math

import pytest

from cnnlab.cli.main import as_flag
from cnnlab.core.validate import (
    InvalidArgument,
    int_pair,
    non_negative_int,
    number,
    one_of,
    positive_int,
)


@pytest.mark.parametrize("value", [0, -1, 2.0, True, "3", None, 2**63])
def test_positive_int_refuses(value):
    with pytest.raises(InvalidArgument, match=r"^epochs must be a positive integer, got ") as info:
        positive_int("epochs", value)
    assert info.value.argument == "epochs"
    assert isinstance(info.value, ValueError)


def test_positive_int_accepts_and_bounds():
    assert positive_int("n", 5) == 5
    assert positive_int("n", 5, maximum=5) == 5
    with pytest.raises(ValueError, match=r"n must be a positive integer <= 4, got 5"):
        positive_int("n", 5, maximum=4)


@pytest.mark.parametrize("value", [-1, 1.5, False, 2**64])
def test_non_negative_int_refuses(value):
    with pytest.raises(ValueError, match=r"^seed must be an integer >= 0"):
        non_negative_int("seed", value)
    assert non_negative_int("seed", 0) == 0
    with pytest.raises(ValueError, match=r"^seed must be an integer in \[0, 4\], got 5$"):
        non_negative_int("seed", 5, maximum=4)


def test_int_pair():
    assert int_pair("kernel_size", 3) == (3, 3)
    assert int_pair("kernel_size", (2, 5)) == (2, 5)
    assert int_pair("padding", (0, 0), minimum=0) == (0, 0)
    for bad in [(1, 2, 3), "33", 0, (1, 0), (1.0, 2)]:
        with pytest.raises(ValueError, match=r"^kernel_size must be an integer >= 1 or a pair"):
            int_pair("kernel_size", bad)


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, "0.1", None, True])
def test_number_refuses_non_finite_and_non_numbers(value):
    with pytest.raises(ValueError, match=r"^lr must be a finite number >= 0, got "):
        number("lr", value, minimum=0)


def test_number_bounds_wording():
    assert number("p", 0, minimum=0, maximum=1, exclusive_maximum=True) == 0.0
    with pytest.raises(ValueError, match=r"p must be a finite number in \[0, 1\), got 1"):
        number("p", 1, minimum=0, maximum=1, exclusive_maximum=True)
    with pytest.raises(ValueError, match=r"eps must be a finite number > 0, got 0"):
        number("eps", 0, minimum=0, exclusive_minimum=True)
    with pytest.raises(ValueError, match=r"x must be a finite number <= 2, got 3"):
        number("x", 3, maximum=2)


def test_one_of_lists_choices_and_close_matches():
    assert one_of("scheduler", "step", ("none", "step")) == "step"
    with pytest.raises(ValueError, match=r"did you mean cosine\?$"):
        one_of("scheduler", "cosin", ("none", "step", "cosine"))
    with pytest.raises(ValueError, match=r"must be one of \['a', 'b'\], got \[1\]$"):
        one_of("mode", [1], {"a", "b"})


def test_cli_names_the_flag_only_when_the_subcommand_has_it():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int)
    err = as_flag(InvalidArgument("batch_size", "batch_size must be 1, got 0"), parser)
    assert str(err) == "--batch-size must be 1, got 0"
    other = InvalidArgument("momentum", "momentum must be >= 0, got -1")
    assert str(as_flag(other, parser)) == "momentum must be >= 0, got -1"
    plain = ValueError("something else")
    assert as_flag(plain, parser) is plain
