"""The window primitive and the naive loop references.

im2col is checked entry by entry against its defining index formula, col2im against being the
exact adjoint of im2col (<im2col(x), c> = <x, col2im(c)>), and the fast convolution and max
pooling against the loop versions (which are checked against torch in test_conv/test_pooling).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import scratch
from cnnlab.core.validate import InvalidArgument
from cnnlab.scratch.functional.conv import conv2d_backward, conv2d_forward
from cnnlab.scratch.functional.naive import (
    conv2d_backward_naive,
    conv2d_naive,
    max_pool2d_backward_naive,
    max_pool2d_naive,
)
from cnnlab.scratch.functional.pool import max_pool2d_backward, max_pool2d_forward
from cnnlab.scratch.functional.window import Window2d, col2im, im2col, windows


@st.composite
def window_and_input(draw, max_pad: int = 2):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    pads = tuple(draw(st.integers(0, max_pad)) for _ in range(4))
    window = Window2d((kh, kw), (sh, sw), pads, (dh, dw))
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - pads[0] - pads[1]), 8))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - pads[2] - pads[3]), 8))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**16))
    return window, np.random.default_rng(seed).standard_normal((n, c, h, w))


@settings(max_examples=40)
@given(window_and_input())
def test_im2col_matches_index_formula(case) -> None:
    window, x = case
    cols = im2col(x, window)
    (kh, kw), (sh, sw), (dh, dw) = window.kernel, window.stride, window.dilation
    top, _, left, _ = window.padding
    _, _, h, w = x.shape
    for p, q, i, j in itertools.product(
        range(kh), range(kw), range(cols.shape[4]), range(cols.shape[5])
    ):
        r, s = i * sh + p * dh - top, j * sw + q * dw - left
        expected = x[:, :, r, s] if 0 <= r < h and 0 <= s < w else 0.0
        np.testing.assert_array_equal(cols[:, :, p, q, i, j], expected)


@settings(max_examples=40)
@given(window_and_input(), st.integers(0, 2**16))
def test_col2im_is_the_adjoint_of_im2col(case, seed) -> None:
    window, x = case
    cols = im2col(x, window)
    c = np.random.default_rng(seed).standard_normal(cols.shape)
    lhs = np.sum(cols * c)
    rhs = np.sum(x * col2im(c, x.shape[2:], window))
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)


def test_batch_last_layout_is_a_transpose() -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 5))
    window = Window2d((3, 2), (2, 1), (1, 0, 1, 1), (1, 2))
    np.testing.assert_array_equal(
        im2col(x, window, batch_last=True), im2col(x, window).transpose(1, 2, 3, 0, 4, 5)
    )


def test_windows_is_a_read_only_view_without_copy() -> None:
    xp = np.arange(2 * 3 * 7 * 7, dtype=float).reshape(2, 3, 7, 7)
    view = windows(xp, Window2d((3, 3), (2, 2), (0, 0, 0, 0)), (3, 3))
    assert np.shares_memory(view, xp)
    assert not view.flags.writeable
    with pytest.raises(ValueError, match="overrun"):
        windows(xp, Window2d((3, 3), (2, 2), (0, 0, 0, 0)), (4, 3))


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda v: scratch.Conv2d(1, 1, v), "kernel_size"),
        (lambda v: scratch.MaxPool2d(3, padding=v), "padding"),
        (lambda v: scratch.ConvTranspose2d(1, 1, 3, stride=v), "stride"),
    ],
    ids=["conv-kernel", "pool-padding", "transpose-stride"],
)
@pytest.mark.parametrize(
    "value",
    [-1, (2, -1), (1, 2, 3), "3", True, 2.0],
    ids=["negative", "negative-in-pair", "triple", "string", "bool", "float"],
)
def test_window_arguments_are_validated_by_name(make, name, value) -> None:
    with pytest.raises(InvalidArgument, match=rf"^{name} must be an integer >= \d or a pair"):
        make(value)


def test_output_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="output size"):
        Window2d((5, 5), (1, 1), (0, 0, 0, 0)).checked_output_size(4, 9)


@settings(max_examples=25)
@given(window_and_input(max_pad=1), st.integers(1, 3), st.integers(1, 2), st.booleans())
def test_fast_conv_matches_naive_loops(case, c_out_g, groups, with_bias) -> None:
    window, x = case
    rng = np.random.default_rng(1)
    x = np.concatenate([x] * groups, axis=1)
    c_in_g = x.shape[1] // groups
    weight = rng.standard_normal((c_out_g * groups, c_in_g, *window.kernel))
    bias = rng.standard_normal(c_out_g * groups) if with_bias else None
    y, cache = conv2d_forward(x, weight, bias, window, groups)
    np.testing.assert_allclose(
        y, conv2d_naive(x, weight, bias, window, groups), rtol=1e-12, atol=1e-12
    )
    dout = rng.standard_normal(y.shape)
    dx, dw, db = conv2d_backward(dout, cache)
    ndx, ndw, ndb = conv2d_backward_naive(dout, x, weight, window, groups)
    np.testing.assert_allclose(dx, ndx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, ndw, rtol=1e-12, atol=1e-12)
    if with_bias:
        np.testing.assert_allclose(db, ndb, rtol=1e-12, atol=1e-12)


@settings(max_examples=30)
@given(window_and_input(max_pad=1), st.booleans())
def test_fast_max_pool_matches_naive_loops(case, ties) -> None:
    window, x = case
    kh, kw = window.kernel
    # pooling padding is at most half the kernel (torch's rule): clip it
    pads = (min(window.padding[0], kh // 2),) * 2 + (min(window.padding[2], kw // 2),) * 2
    window = Window2d(window.kernel, window.stride, pads, window.dilation)
    if window.output_size(*x.shape[2:])[0] <= 0 or window.output_size(*x.shape[2:])[1] <= 0:
        return
    if ties:
        x = np.round(x)  # few distinct values: many ties, the first maximum must win
    y, indices, cache = max_pool2d_forward(x, window)
    ny, nindices = max_pool2d_naive(x, window)
    np.testing.assert_array_equal(y, ny)
    np.testing.assert_array_equal(indices, nindices)
    dout = np.random.default_rng(0).standard_normal(y.shape)
    np.testing.assert_allclose(
        max_pool2d_backward(dout, cache),
        max_pool2d_backward_naive(dout, nindices, x.shape),
        rtol=1e-12,
        atol=1e-15,
    )
