"""Receptive-field recurrences along one spatial axis, in exact fractions.

The convention is Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural
Networks", Distill 2019. A feature map's positions ``o = 0, 1, ...`` each see a window of the
input; along one axis that window is described by three numbers:

* ``size`` r: how many input pixels the window spans,
* ``jump`` j: the distance, in input pixels, between the windows of neighbouring positions
  (the effective stride, the product of the strides so far),
* ``start`` s: the input coordinate of the centre of the window of position 0. Pixel ``x``
  covers coordinate ``x``; padding makes ``s`` negative or fractional.

The window of position ``o`` is centred on ``s + o * j`` and covers the inclusive interval
``[s + o*j - (r-1)/2, s + o*j + (r-1)/2]``. The input itself is ``r = 1, j = 1, s = 0``.

Math:
    convolution or pooling with kernel k, stride t, padding p, dilation d (effective kernel
    ``k_e = d(k-1) + 1``)::

        r' = r + (k_e - 1) j        j' = j t        s' = s + ((k_e - 1)/2 - p) j

    transposed convolution (each input pixel scattered once; jump below 1 when t > 1)::

        j' = j / t                  s' = s + (p - d(k-1)/2) j / t
        r' = r + (n - 1)(d / g) j   with g = gcd(d, t) and n = ceil(k / (t/g)) taps per output

    global pooling over n positions is a pooling with k = t = n; branches joined by addition or
    concatenation see the union of the branches' windows.

Values are exact: whole numbers are ``int``, anything else a :class:`fractions.Fraction`
(jumps below one after upsampling, half-pixel starts). Three stacked 3x3 convolutions see 7
pixels::

    >>> f = AxisField()
    >>> for _ in range(3):
    ...     f = f.conv(3, padding=1)
    >>> f.size, f.jump, f.start
    (7, 1, 0)
    >>> AxisField().conv(2).start  # a 2-pixel window is centred between pixels 0 and 1
    Fraction(1, 2)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

Number = int | Fraction


def exact(value: Number | float) -> Number:
    """``value`` as an exact number: an ``int`` when it is whole, a ``Fraction`` otherwise."""
    if type(value) is int:
        return value
    value = Fraction(value)
    return value.numerator if value.denominator == 1 else value


def _number(value: Number | float, name: str) -> Number:
    if isinstance(value, bool) or not isinstance(value, (int, Fraction, float)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    return exact(value)


def _half(value: Number) -> Number:
    if type(value) is int and value % 2 == 0:
        return value // 2
    return Fraction(value) / 2


def _divide(value: Number, by: int) -> Number:
    if type(value) is int and value % by == 0:
        return value // by
    return Fraction(value) / by


def _positive(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


@dataclass(frozen=True)
class AxisField:
    """The receptive field of a feature map along one axis (Distill convention).

    Attributes:
        size: window size r in input pixels (>= 1; may be fractional after upsampling).
        jump: distance j between neighbouring positions' windows, in input pixels.
        start: input coordinate s of the centre of position 0's window.

    Each is an ``int`` when whole and a ``Fraction`` otherwise (floats are converted exactly).
    """

    size: Number = 1
    jump: Number = 1
    start: Number = 0

    def __post_init__(self) -> None:
        for name in ("size", "jump", "start"):
            object.__setattr__(self, name, _number(getattr(self, name), name))

    # -- single-path layers ---------------------------------------------------------------
    def conv(
        self, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
    ) -> AxisField:
        """After a convolution or a pooling window (max, average) with these settings."""
        _positive(kernel_size, "kernel_size")
        _positive(stride, "stride")
        _positive(dilation, "dilation")
        k_eff = dilation * (kernel_size - 1) + 1
        return AxisField(
            self.size + (k_eff - 1) * self.jump,
            self.jump * stride,
            self.start + (_half(k_eff - 1) - padding) * self.jump,
        )

    def transposed(
        self, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
    ) -> AxisField:
        """After a transposed convolution (``ConvTranspose``); the jump divides by the stride.

        Output position o receives input position i through tap t when ``o = i*stride - padding
        + t*dilation``. The taps reaching one output are spaced ``dilation / g`` input pixels
        apart (``g = gcd(dilation, stride)``) and there are at most ``ceil(k / (stride/g))`` of
        them; ``size`` is that maximum (exact for every position when ``stride`` divides
        ``kernel_size`` and ``dilation == 1``). ``output_padding`` only adds positions at the
        end and changes nothing here.

        The true windows are not evenly spaced: with stride 2, outputs come in pairs whose
        windows are offset by +-1/4 of the input jump from the affine ``start + o * jump``.
        ``jump`` and ``start`` are the exact average spacing and centre over one period (the
        same convention serves nearest and bilinear upsampling).
        """
        _positive(kernel_size, "kernel_size")
        _positive(stride, "stride")
        _positive(dilation, "dilation")
        g = math.gcd(dilation, stride)
        taps = -(-kernel_size // (stride // g))
        span = (taps - 1) * (dilation // g)
        return AxisField(
            self.size + span * self.jump,
            _divide(self.jump, stride),
            self.start
            + _divide((padding - _half(dilation * (kernel_size - 1))) * self.jump, stride),
        )

    def resample(self, ratio: Number, offset: Number, taps: int) -> AxisField:
        """After interpolation: output o reads ``taps`` pixels centred near ``offset + o*ratio``.

        ``ratio`` is input pixels per output pixel (1/2 for 2x upsampling). Nearest and
        bilinear resizing (``align_corners=False``) centre on ``(ratio - 1)/2 + o*ratio``.
        """
        _positive(taps, "taps")
        ratio, offset = _number(ratio, "ratio"), _number(offset, "offset")
        return AxisField(
            self.size + (taps - 1) * self.jump,
            self.jump * ratio,
            self.start + offset * self.jump,
        )

    def pad(self, before: int) -> AxisField:
        """After padding ``before`` positions at the start (new position 0 sits at old -before)."""
        return AxisField(self.size, self.jump, self.start - before * self.jump)

    def slice(self, start: int, step: int = 1) -> AxisField:
        """After keeping positions ``start, start + step, ...`` (cropping, strided slicing)."""
        _positive(step, "step")
        return AxisField(self.size, self.jump * step, self.start + start * self.jump)

    def collapse(self, positions: int) -> AxisField:
        """Global pooling over ``positions`` positions: one window covering all of them."""
        _positive(positions, "positions")
        return self.conv(positions, stride=positions)

    # -- geometry ------------------------------------------------------------------------
    def center(self, position: int) -> Number:
        """Input coordinate of the centre of ``position``'s window."""
        return exact(self.start + position * self.jump)

    def box(self, position: int) -> tuple[Number, Number]:
        """Inclusive input interval ``(lo, hi)`` seen by ``position`` (may extend into padding)."""
        c = self.center(position)
        half = _half(self.size - 1)
        return exact(c - half), exact(c + half)


@dataclass(frozen=True)
class UnionResult:
    """The field where branches meet, and whether the branches were aligned."""

    field: AxisField
    aligned: bool
    uniform: bool


def union(branches: Sequence[tuple[AxisField, int]], positions: int) -> UnionResult:
    """Receptive field of an element-wise join (add, multiply, concatenate) of branches.

    Args:
        branches: ``(field, extent)`` per branch; ``extent`` is the branch's number of positions
            along the axis, 1 for a branch broadcast along it (e.g. a squeeze-excitation scale).
        positions: number of positions of the joined feature map along the axis.

    Returns:
        The union window at the first and last position interpolated linearly, with
        ``aligned`` False when non-broadcast branches disagree on jump or start (their windows
        are not centred on the same pixel: Distill's "alignment" problem) and ``uniform`` False
        when the union's width differs between the first and last position.
    """
    if not branches:
        raise ValueError("union needs at least one branch")
    _positive(positions, "positions")
    last = positions - 1
    ends = []
    for position in (0, last):
        boxes = [f.box(position if extent > 1 else 0) for f, extent in branches]
        ends.append((min(b[0] for b in boxes), max(b[1] for b in boxes)))
    (lo0, hi0), (lo1, hi1) = ends
    width0, width1 = hi0 - lo0, hi1 - lo1
    centre0 = _half(lo0 + hi0)
    # A single position has no neighbour: keep the branches' largest jump.
    jump = _divide(_half(lo1 + hi1) - centre0, last) if last else max(f.jump for f, _ in branches)
    # Broadcast branches (one position, or jump 0: the same window everywhere) align with any.
    spread = {(f.jump, f.start) for f, extent in branches if extent > 1 and f.jump != 0}
    return UnionResult(
        AxisField(max(width0, width1) + 1, jump, centre0),
        aligned=len(spread) <= 1,
        uniform=width0 == width1,
    )


def stack_fields(
    layers: Sequence[tuple[int, int, int, int]], field: AxisField | None = None
) -> list[AxisField]:
    """Fields after each ``(kernel, stride, padding, dilation)`` layer of a single-path stack.

    >>> [f.size for f in stack_fields([(3, 1, 1, 1), (3, 1, 2, 2), (3, 1, 4, 4)])]
    [3, 7, 15]
    """
    out = []
    f = field or AxisField()
    for kernel, stride, padding, dilation in layers:
        f = f.conv(kernel, stride, padding, dilation)
        out.append(f)
    return out


def format_fraction(value: Number) -> str:
    """``7`` for whole numbers, ``-1/2`` otherwise (exact, no rounding)."""
    value = Fraction(value)
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )
