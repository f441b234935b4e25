"""The receptive-field recurrences (cnnlab.core.receptive_field) against brute-force index sets.

The oracle follows which input indices reach one output index through each layer's definition
(``i = o*stride - padding + t*dilation`` for a convolution, ``o = i*stride - padding + t*dilation``
for a transposed one) on an unbounded 1-D signal, in plain integers.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnnlab.core.receptive_field import AxisField, format_fraction, stack_fields, union

Layer = tuple[str, int, int, int, int]  # kind, kernel, stride, padding, dilation


def sources(layers: list[Layer], position: int) -> set[int]:
    """Input indices that reach ``position`` of the last layer (no borders)."""
    current = {position}
    for kind, k, s, p, d in reversed(layers):
        previous: set[int] = set()
        for o in current:
            for t in range(k):
                if kind == "conv":
                    previous.add(o * s - p + t * d)
                elif (o + p - t * d) % s == 0:
                    previous.add((o + p - t * d) // s)
        current = previous
    return current


def field_after(layers: list[Layer]) -> AxisField:
    f = AxisField()
    for kind, k, s, p, d in layers:
        f = f.conv(k, s, p, d) if kind == "conv" else f.transposed(k, s, p, d)
    return f


conv_layer = st.tuples(
    st.just("conv"),
    st.integers(1, 5),
    st.integers(1, 3),
    st.integers(0, 3),
    st.integers(1, 3),
)


@given(st.lists(conv_layer, min_size=1, max_size=5), st.integers(0, 6))
def test_conv_pool_stacks_match_index_sets(layers: list[Layer], position: int) -> None:
    f = field_after(layers)
    seen = sources(layers, position)
    lo, hi = f.box(position)
    assert (min(seen), max(seen)) == (lo, hi)
    assert f.size == max(seen) - min(seen) + 1
    # the next position's window is one jump further
    nxt = sources(layers, position + 1)
    assert min(nxt) - min(seen) == f.jump


@pytest.mark.parametrize(
    ("kernel", "stride", "padding"),
    [(2, 2, 0), (4, 2, 1), (6, 3, 1), (3, 1, 1), (8, 4, 2)],
    ids=["k2-s2", "k4-s2-p1", "k6-s3-p1", "k3-s1-p1", "k8-s4-p2"],
)
@pytest.mark.parametrize("before", [[], [("conv", 3, 2, 1, 1)]], ids=["direct", "after-conv"])
def test_transposed_conv_size_exact_and_centres_average_out(
    kernel: int, stride: int, padding: int, before: list[Layer]
) -> None:
    layers = [*before, ("conv", 3, 1, 1, 1), ("transposed", kernel, stride, padding, 1)]
    f = field_after(layers)
    start = 40
    period = range(start, start + stride)
    centres = []
    for o in period:
        seen = sources(layers, o)
        assert max(seen) - min(seen) + 1 == f.size  # stride divides kernel: every window full
        centres.append(Fraction(max(seen) + min(seen), 2))
    assert sum(centres) / stride == sum(f.center(o) for o in period) / stride


@given(
    st.integers(1, 7), st.integers(1, 4), st.integers(0, 4), st.integers(1, 3), st.integers(0, 60)
)
def test_transposed_size_is_the_widest_window(k: int, s: int, p: int, d: int, o: int) -> None:
    layers: list[Layer] = [("transposed", k, s, p, d)]
    f = field_after(layers)
    windows = [w for w in (sources(layers, q) for q in range(o, o + s)) if w]  # k < s: holes
    widest = max(max(w) - min(w) + 1 for w in windows)
    assert f.size == widest


def test_three_3x3_see_7_and_dilated_stack_grows_exponentially() -> None:
    assert [f.size for f in stack_fields([(3, 1, 1, 1)] * 3)] == [3, 5, 7]
    dilated = stack_fields([(3, 1, 2**i, 2**i) for i in range(5)])
    # Yu & Koltun (2016): dilations 1, 2, 4, ... give fields of size 2^(i+2) - 1.
    assert [f.size for f in dilated] == [3, 7, 15, 31, 63]


def test_union_of_aligned_and_misaligned_branches() -> None:
    a = AxisField().conv(3, padding=1)  # centred on o
    b = AxisField().conv(5, padding=2)
    res = union([(a, 10), (b, 10)], 10)
    assert res.aligned and res.uniform and res.field == b
    c = AxisField().conv(2).pad(1)  # window [o-1, o]: centre o - 1/2
    res = union([(a, 10), (c, 10)], 10)
    assert not res.aligned
    assert res.field == AxisField(3, 1, 0)
    g = AxisField().conv(3, padding=1).collapse(10)  # global: broadcast to every position
    res = union([(a, 10), (g, 1)], 10)
    assert res.field.jump == 0 and res.field.size == g.size


@pytest.mark.parametrize(
    ("value", "text"),
    [(Fraction(7), "7"), (Fraction(-1, 2), "-1/2"), (Fraction(15, 2), "15/2")],
    ids=["int", "neg-half", "frac"],
)
def test_format_fraction(value: Fraction, text: str) -> None:
    assert format_fraction(value) == text


@pytest.mark.parametrize(
    "bad",
    [{"kernel_size": 0}, {"kernel_size": 3, "stride": 0}, {"kernel_size": 3, "dilation": -1}],
    ids=["k0", "s0", "d-1"],
)
def test_bad_layer_settings_raise(bad: dict) -> None:
    with pytest.raises(ValueError, match="must be a positive integer"):
        AxisField().conv(**bad)


@pytest.mark.parametrize("kernel", [3, 5, 7])
def test_stacked_kernels_see_one_plus_k_minus_one_times_layers(kernel: int) -> None:
    # The notes' "(kernel - 1) * layers" is the growth; the field itself is 1 + (k - 1) L.
    sizes = [f.size for f in stack_fields([(kernel, 1, 0, 1)] * 5)]
    assert sizes == [1 + (kernel - 1) * layers for layers in range(1, 6)]
    assert sizes == [len(sources([("conv", kernel, 1, 0, 1)] * n, 0)) for n in range(1, 6)]


def test_fields_print_as_the_numbers_they_are() -> None:
    import doctest

    from cnnlab.core import receptive_field

    results = doctest.testmod(receptive_field)
    assert results.attempted >= 4 and results.failed == 0
    assert repr([f.size for f in stack_fields([(3, 1, 1, 1)] * 3)]) == "[3, 5, 7]"
    assert repr(AxisField().conv(3, padding=1)) == "AxisField(size=3, jump=1, start=0)"
    assert AxisField().conv(2).start == Fraction(1, 2)  # a true fraction stays one
    assert type(AxisField(Fraction(6, 2)).size) is int
