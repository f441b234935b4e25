"""A check: one measured number of an experiment against an exact formula, a library or a paper.

Each experiment returns its checks; ``summary.md`` lists them and the verdict is "confirmed" only
when all pass. The tests assert them and also recompute the references independently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Where the expected value comes from.
KINDS = ("exact", "library", "published")


@dataclass(frozen=True)
class Check:
    """One comparison.

    Attributes:
        claim: what is being checked, in words.
        measured: the measured value, formatted.
        expected: the reference value or bound, formatted, with its tolerance.
        source: where the reference comes from (a formula, a library, a paper).
        kind: ``"exact"`` (a formula), ``"library"`` (an independent implementation) or
            ``"published"`` (a paper's result).
        passed: whether the measured value agrees.
    """

    claim: str
    measured: str
    expected: str
    source: str
    kind: str
    passed: bool

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")


def close(
    claim: str,
    measured: float,
    expected: float,
    *,
    source: str,
    kind: str = "exact",
    rtol: float = 0.0,
    atol: float = 0.0,
    fmt: str = ".4g",
) -> Check:
    """``|measured - expected| <= atol + rtol * |expected|``."""
    ok = math.isfinite(measured) and abs(measured - expected) <= atol + rtol * abs(expected)
    tol = []
    if rtol:
        tol.append(f"rel {rtol:g}")
    if atol:
        tol.append(f"abs {atol:g}")
    shown = f"{expected:{fmt}}" + (f" ({', '.join(tol)})" if tol else "")
    return Check(claim, f"{measured:{fmt}}", shown, source, kind, bool(ok))


def within(
    claim: str,
    measured: float,
    low: float,
    high: float,
    *,
    source: str,
    kind: str = "published",
    fmt: str = ".4g",
) -> Check:
    """``low <= measured <= high`` (either bound may be infinite)."""
    ok = math.isfinite(measured) and low <= measured <= high
    if math.isinf(low):
        shown = f"<= {high:{fmt}}"
    elif math.isinf(high):
        shown = f">= {low:{fmt}}"
    else:
        shown = f"in [{low:{fmt}}, {high:{fmt}}]"
    return Check(claim, f"{measured:{fmt}}", shown, source, kind, bool(ok))


def holds(claim: str, ok: bool, *, measured: str, expected: str, source: str, kind: str) -> Check:
    """A check whose comparison the caller made (e.g. an exact equality of arrays)."""
    return Check(claim, measured, expected, source, kind, bool(ok))
