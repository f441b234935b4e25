"""The notes' RMSProp and Adam, as their source prints them, against torch.optim, and the chapter
quoting them as printed (it once put an eps inside RMSProp's square root).

Source (the book the notes copy, sections "RMSprop" and "Adam"):
    RMSprop: S_dW = beta S_dW + (1 - beta) dW^2;  W = W - alpha dW / sqrt(S_dW)       (no eps)
    Adam:    W := W - alpha v_dW^corrected / (sqrt(S_dW^corrected) + eps)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

DOC = Path(__file__).resolve().parents[2] / "docs" / "optimizers.md"


def notes_rmsprop(w: np.ndarray, grads: list[np.ndarray], alpha: float, beta: float) -> np.ndarray:
    s = np.zeros_like(w)
    for dw in grads:
        s = beta * s + (1 - beta) * dw**2
        w = w - alpha * dw / np.sqrt(s)
    return w


def notes_adam(
    w: np.ndarray, grads: list[np.ndarray], alpha: float, beta1: float, beta2: float, eps: float
) -> np.ndarray:
    v, s = np.zeros_like(w), np.zeros_like(w)
    for t, dw in enumerate(grads, start=1):
        v = beta1 * v + (1 - beta1) * dw
        s = beta2 * s + (1 - beta2) * dw**2
        w = w - alpha * (v / (1 - beta1**t)) / (np.sqrt(s / (1 - beta2**t)) + eps)
    return w


def torch_run(
    make: Callable[[list[torch.Tensor]], torch.optim.Optimizer],
    w: np.ndarray,
    grads: list[np.ndarray],
) -> np.ndarray:
    p = torch.tensor(w, requires_grad=True)
    opt = make([p])
    for dw in grads:
        p.grad = torch.tensor(dw)
        opt.step()
    return p.detach().numpy()


def problem(scale: float) -> tuple[np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(0)
    return rng.normal(size=6), [scale * rng.normal(size=6) for _ in range(40)]


def test_notes_rmsprop_is_torch_rmsprop_without_eps() -> None:
    w0, grads = problem(1.0)
    ours = notes_rmsprop(w0, grads, alpha=0.01, beta=0.9)
    theirs = torch_run(lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=0), w0, grads)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_notes_adam_is_torch_adam_eps_outside_the_root() -> None:
    """With gradients of 1e-6 eps = 1e-8 matters, so the place of eps is really tested: the
    notes' Adam matches torch to 1e-12, and the eps-inside variant is far off."""
    w0, grads = problem(1e-6)
    ours = notes_adam(w0, grads, alpha=0.01, beta1=0.9, beta2=0.999, eps=1e-8)
    theirs = torch_run(lambda ps: torch.optim.Adam(ps, lr=0.01, eps=1e-8), w0, grads)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    first = 1e-6 / (np.sqrt(1e-12) + 1e-8), 1e-6 / np.sqrt(1e-12 + 1e-8)  # outside, inside
    np.testing.assert_allclose(first, [0.990099, 0.0099995], rtol=1e-5)


def test_the_chapter_quotes_the_notes_as_printed() -> None:
    text = DOC.read_text()
    assert r"\sqrt{S_{dW} + \epsilon}" not in text  # the misquote
    assert r"W = W - \alpha \frac{dW}{\sqrt{S_{dW}}}" in text  # RMSProp: no eps
    assert r"{\sqrt{S_{dW}^{corrected}} + \varepsilon}" in text  # Adam: eps outside the root
