"""Argument validators shared by both tiers, with one wording.

Every library error names the *argument* (``lr must be a finite number >= 0, got inf``) and is an
:class:`InvalidArgument`, a ``ValueError`` that remembers which argument was wrong. The ``cnnlab``
command turns the argument name into the flag the user typed (``--lr``), so the library never has
to know about flags. Pure Python: no numpy, no torch.

    >>> positive_int("epochs", 3)
    3
    >>> number("lr", float("inf"), minimum=0)
    Traceback (most recent call last):
    ...
    cnnlab.core.validate.InvalidArgument: lr must be a finite number >= 0, got inf
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection, Sequence
from typing import Any

from cnnlab.core.names import close_matches

__all__ = [
    "InvalidArgument",
    "int_pair",
    "non_negative_int",
    "number",
    "one_of",
    "positive_int",
]

# Integers larger than this cannot be a count, a size or a seed anywhere in torch or NumPy.
_INT64_MAX = 2**63 - 1


class InvalidArgument(ValueError):
    """A ``ValueError`` for one bad argument; ``argument`` names it (``"lr"``, ``"batch_size"``).

    The message always starts with the argument's name, so a caller that knows a better name for
    it (the CLI's ``--lr``) can swap the first word with :meth:`renamed`.
    """

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message)
        self.argument = argument

    def renamed(self, name: str) -> InvalidArgument:
        """The same error with the leading argument name replaced by ``name``."""
        text = str(self)
        if text.startswith(self.argument):
            text = name + text[len(self.argument) :]
        return InvalidArgument(name, text)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_int(name: str, value: Any, *, maximum: int = _INT64_MAX) -> int:
    """``value`` as an ``int`` if it is a whole number in ``[1, maximum]``."""
    if not _is_int(value) or not 1 <= value <= maximum:
        limit = "" if maximum == _INT64_MAX else f" <= {maximum}"
        raise InvalidArgument(name, f"{name} must be a positive integer{limit}, got {value!r}")
    return int(value)


def non_negative_int(name: str, value: Any, *, maximum: int = _INT64_MAX) -> int:
    """``value`` as an ``int`` if it is a whole number in ``[0, maximum]``."""
    if not _is_int(value) or not 0 <= value <= maximum:
        allowed = ">= 0" if maximum == _INT64_MAX else f"in [0, {maximum}]"
        raise InvalidArgument(name, f"{name} must be an integer {allowed}, got {value!r}")
    return int(value)


def int_pair(name: str, value: Any, *, minimum: int = 1) -> tuple[int, int]:
    """An int or a pair of ints, each ``>= minimum``, as a pair (``3 -> (3, 3)``)."""
    pair = (value, value) if _is_int(value) else value
    if (
        not isinstance(pair, Sequence)
        or isinstance(pair, str)
        or len(pair) != 2
        or not all(_is_int(v) and v >= minimum for v in pair)
    ):
        raise InvalidArgument(
            name, f"{name} must be an integer >= {minimum} or a pair of them, got {value!r}"
        )
    return int(pair[0]), int(pair[1])


def _bounds_text(minimum: float | None, maximum: float | None, lo_open: bool, hi_open: bool) -> str:
    if minimum is not None and maximum is not None:
        return f" in {'(' if lo_open else '['}{minimum:g}, {maximum:g}{')' if hi_open else ']'}"
    if minimum is not None:
        return f" {'>' if lo_open else '>='} {minimum:g}"
    if maximum is not None:
        return f" {'<' if hi_open else '<='} {maximum:g}"
    return ""


def number(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
    exclusive_maximum: bool = False,
) -> float:
    """``value`` as a ``float`` if it is a finite real number within the bounds.

    NaN and infinities are always refused: no hyper-parameter of a network is infinite.

        >>> number("p", 0.5, minimum=0, maximum=1, exclusive_maximum=True)
        0.5
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        v = float(value)
        ok = math.isfinite(v)
        if ok and minimum is not None:
            ok = v > minimum if exclusive_minimum else v >= minimum
        if ok and maximum is not None:
            ok = v < maximum if exclusive_maximum else v <= maximum
    if not ok:
        bounds = _bounds_text(minimum, maximum, exclusive_minimum, exclusive_maximum)
        raise InvalidArgument(name, f"{name} must be a finite number{bounds}, got {value!r}")
    return float(value)


def one_of(name: str, value: Any, choices: Collection[Any]) -> Any:
    """``value`` if it is one of ``choices``; otherwise an error listing close matches.

        >>> one_of("scheduler", "cosin", ("none", "step", "cosine"))
        Traceback (most recent call last):
        ...
        cnnlab.core.validate.InvalidArgument: scheduler must be one of ['cosine', 'none', \
'step'], got 'cosin'; did you mean cosine?
    """
    try:
        if value in choices:
            return value
    except TypeError:  # unhashable value against a set or dict
        pass
    shown = sorted(choices, key=str)
    message = f"{name} must be one of {shown}, got {value!r}"
    if isinstance(value, str):
        hits = close_matches(value, [str(c) for c in choices])
        if hits:
            message += f"; did you mean {', '.join(hits)}?"
    raise InvalidArgument(name, message)
