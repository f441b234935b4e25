"""Centred finite differences against a layer's hand-written ``backward``."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnlab.core.validate import number
from cnnlab.scratch.module import Module


@dataclass
class GradcheckReport:
    """Largest differences between analytic and numerical gradients, per tensor.

    ``ok`` is true when every entry satisfies ``|analytic - numeric| <= atol + rtol |numeric|``.
    """

    max_abs_error: dict[str, float] = field(default_factory=dict)
    ok: bool = True

    def describe(self) -> str:
        errors = ", ".join(f"{k}: {v:.2e}" for k, v in self.max_abs_error.items())
        return f"gradcheck {'passed' if self.ok else 'FAILED'} (max abs error {errors})"


def _numeric_gradient(f, array: np.ndarray, eps: float) -> np.ndarray:
    grad = np.zeros_like(array)
    flat, out = array.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + eps
        plus = f()
        flat[i] = original - eps
        minus = f()
        flat[i] = original
        out[i] = (plus - minus) / (2.0 * eps)
    return grad


def gradcheck(
    layer: Module,
    x: np.ndarray,
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-4,
    seed: int = 0,
) -> GradcheckReport:
    """Compare ``layer.backward`` with centred differences ``(f(x + e) - f(x - e)) / 2e``.

    The scalar checked is ``f = sum(layer(x) * R)`` with a fixed random ``R``, so
    ``backward(R)`` must return ``df/dx`` and fill every parameter's ``.grad`` with ``df/dp``.
    The layer's state (running statistics) and gradients are restored afterwards.

    Args:
        layer: a deterministic layer (Dropout only in eval mode or with p = 0).
        x: a float64 input (finite differences need double precision).
        eps: the step.
        atol, rtol: the tolerance per entry.
        seed: seed of the projection ``R``.

    Raises:
        ValueError: ``x`` is not float64, or the layer gives different outputs for the same x.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise ValueError(
            f"gradcheck needs a float64 numpy input, got {getattr(x, 'dtype', type(x))}"
        )
    eps = number("eps", eps, minimum=0, exclusive_minimum=True)
    atol, rtol = number("atol", atol, minimum=0), number("rtol", rtol, minimum=0)
    state = layer.state_dict()
    param_names = {name for name, _ in layer._named_parameters_all("")}  # shared ones too
    buffers = {k: v for k, v in state.items() if k not in param_names}
    saved_grads = {name: p.grad for name, p in layer.named_parameters()}
    x = x.copy()
    try:
        y = layer.forward(x)
        if not np.array_equal(layer.forward(x), y, equal_nan=True):
            raise ValueError(
                f"{type(layer).__name__} is not deterministic; gradcheck needs eval mode"
            )
        projection = np.random.default_rng(seed).standard_normal(y.shape)

        def f() -> float:
            layer.load_state_dict(buffers, strict=False)  # undo running-statistic updates
            return float(np.sum(layer.forward(x) * projection))

        layer.zero_grad()
        layer.load_state_dict(state)
        layer.forward(x)
        analytic = {"input": layer.backward(projection)}
        params = dict(layer.named_parameters())
        for name, p in params.items():
            analytic[name] = np.zeros_like(p.data) if p.grad is None else p.grad.copy()
        numeric = {"input": _numeric_gradient(f, x, eps)}
        for name, p in params.items():
            numeric[name] = _numeric_gradient(f, p.data, eps)
    finally:
        layer.load_state_dict(state)
        for name, p in layer.named_parameters():
            p.grad = saved_grads.get(name)
    report = GradcheckReport()
    for name, a in analytic.items():
        diff = np.abs(a - numeric[name])
        report.max_abs_error[name] = float(diff.max()) if diff.size else 0.0
        report.ok &= bool(np.all(diff <= atol + rtol * np.abs(numeric[name])))
    return report
