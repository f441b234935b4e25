"""scratch.BCEWithLogitsLoss against torch autograd in float64, extreme logits included."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import scratch

SHAPES = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def _torch_bce(logits, target, weight, pos_weight, reduction, dloss):
    """torch's loss and its gradient with respect to the logits (float64 autograd)."""
    x = torch.tensor(logits, requires_grad=True)
    loss_fn = torch.nn.BCEWithLogitsLoss(
        weight=None if weight is None else torch.from_numpy(weight),
        reduction=reduction,
        pos_weight=None if pos_weight is None else torch.from_numpy(pos_weight),
    )
    loss = loss_fn(x, torch.from_numpy(target))
    loss.backward(None if reduction != "none" else torch.from_numpy(dloss))
    return loss.detach().numpy(), x.grad.numpy()


@settings(max_examples=60, deadline=None)
@given(
    shape=SHAPES,
    reduction=st.sampled_from(["mean", "sum", "none"]),
    weighting=st.sampled_from(["none", "weight", "pos_weight", "both"]),
    soft=st.booleans(),
    extreme=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**16),
)
def test_matches_torch(close, shape, reduction, weighting, soft, extreme, seed) -> None:
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal(shape) * 3
    huge = rng.uniform(size=shape) < extreme  # some logits at +-1e4, where log(sigmoid) = -1e4
    logits[huge] = rng.choice([-1e4, 1e4], size=int(huge.sum()))
    target = rng.uniform(size=shape) if soft else rng.integers(0, 2, shape).astype(np.float64)
    classes = shape[-1:]
    weight = rng.uniform(0, 2, shape[-2:]) if weighting in ("weight", "both") else None
    pos_weight = rng.uniform(0.5, 4, classes) if weighting in ("pos_weight", "both") else None
    dloss = rng.standard_normal(shape)
    ours = scratch.BCEWithLogitsLoss(weight, reduction=reduction, pos_weight=pos_weight)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow in exp, no log(0)
        loss = ours(logits, target)
        grad = ours.backward(dloss if reduction == "none" else None)
    ref_loss, ref_grad = _torch_bce(logits, target, weight, pos_weight, reduction, dloss)
    assert isinstance(loss, float) == (reduction != "none")
    close(np.asarray(loss), ref_loss, "loss")
    close(grad, ref_grad, "dlogits")
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_extreme_logits_give_exact_losses(close, reduction) -> None:
    # confidently right: loss 0, gradient 0; confidently wrong: loss 1e4, gradient +-1
    logits = np.array([[1e4, -1e4], [-1e4, 1e4]])
    target = np.array([[1.0, 0.0], [1.0, 0.0]])
    ours = scratch.BCEWithLogitsLoss(reduction=reduction)
    scale = 0.25 if reduction == "mean" else 1.0
    assert ours(logits, target) == 2e4 * scale
    np.testing.assert_array_equal(ours.backward(), np.array([[0.0, 0.0], [-1.0, 1.0]]) * scale)
    ref_loss, ref_grad = _torch_bce(logits, target, None, None, reduction, None)
    close(np.asarray(ours(logits, target)), ref_loss)
    close(ours.backward(), ref_grad)


def test_upstream_gradient_scales_the_result() -> None:
    rng = np.random.default_rng(3)
    logits, target = rng.standard_normal((3, 4)), rng.integers(0, 2, (3, 4))
    ours = scratch.BCEWithLogitsLoss()
    ours(logits, target)
    np.testing.assert_allclose(ours.backward(2.5), 2.5 * ours.backward())


def test_float32_keeps_its_dtype() -> None:
    logits = np.array([[3.0, -1e4]], dtype=np.float32)
    ours = scratch.BCEWithLogitsLoss(reduction="none")
    losses = ours(logits, np.array([[1, 1]]))  # integer labels are accepted
    assert losses.dtype == np.float32 and ours.backward(np.ones_like(losses)).dtype == np.float32


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: scratch.BCEWithLogitsLoss(reduction="nnone"), "did you mean none"),
        (lambda: scratch.BCEWithLogitsLoss(pos_weight=[1.0, -1.0]), "pos_weight must hold finite"),
        (lambda: scratch.BCEWithLogitsLoss(weight=[np.nan]), "weight must hold finite"),
        (lambda: scratch.BCEWithLogitsLoss()(np.zeros((2, 3)), np.zeros((2, 2))), r"\(2, 3\)"),
        (
            lambda: scratch.BCEWithLogitsLoss()(np.zeros(2), np.array([0.0, 2.0])),
            r"\[0, 1\], got 2",
        ),
        (
            lambda: scratch.BCEWithLogitsLoss(pos_weight=np.ones(4))(
                np.zeros((2, 3)), np.zeros((2, 3))
            ),
            r"pos_weight of shape \(4,\) must broadcast",
        ),
        (lambda: scratch.BCEWithLogitsLoss().backward(), "before forward"),
    ],
    ids=[
        "reduction",
        "negative-pos-weight",
        "nan-weight",
        "shape",
        "target-range",
        "broadcast",
        "backward-first",
    ],
)
def test_bad_input_raises(call, match) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_none_reduction_needs_the_losses_gradient() -> None:
    ours = scratch.BCEWithLogitsLoss(reduction="none")
    ours(np.zeros((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"array of shape \(2, 3\), got None"):
        ours.backward()
    with pytest.raises(ValueError, match=r"array of shape \(2, 3\), got \(3,\)"):
        ours.backward(np.ones(3))
