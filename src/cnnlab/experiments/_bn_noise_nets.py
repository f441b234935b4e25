"""The networks of the ``bn-noise`` experiment and its probe along the gradient.

A private module (its name starts with ``_``): no experiment of its own.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

SHIFT_MAX = 1.0  # m ~ U(-1, 1)
VAR_MAX = 4.0  # s^2 ~ U(1, 4)
MULTIPLES = (0.25, 0.5, 1.0, 2.0, 4.0)  # probe steps, in units of the learning rate


class ShiftScale(nn.Module):
    """Injected covariate shift: ``y = s x + m`` per channel, s and m redrawn by
    :meth:`resample`.

    s^2 ~ U(1, ``var_max``) and m ~ U(-``shift_max``, ``shift_max``), independently per
    channel; after a BN with scale 1 and shift 0 the channel then has batch mean m and
    variance s^2 (up to BN's epsilon). In training the current draw is used until the next
    :meth:`resample`; in evaluation the noise is replaced by its mean, s = E[s] =
    2/3 (v^(3/2) - 1) / (v - 1) and m = 0, as dropout is at test time.

    Shape:
        (N, C, H, W) -> (N, C, H, W)
    """

    def __init__(
        self, channels: int, generator: torch.Generator, shift_max: float, var_max: float
    ) -> None:
        super().__init__()
        self.channels = channels
        self.generator = generator
        self.shift_max = shift_max
        self.var_max = var_max
        # E[sqrt(V)] for V ~ U(1, v): the integral of sqrt(u) / (v - 1) from 1 to v
        self.mean_scale = 2 / 3 * (var_max**1.5 - 1) / (var_max - 1)
        self.draws: list[tuple[torch.Tensor, torch.Tensor]] = []  # (m, s^2) of every draw
        self.resample()

    def resample(self) -> None:
        u = torch.rand(2, self.channels, generator=self.generator, dtype=torch.float64)
        self.shift = (2 * u[0] - 1) * self.shift_max
        self.var = 1 + u[1] * (self.var_max - 1)
        self.draws.append((self.shift, self.var))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x * self.mean_scale
        scale = self.var.sqrt().to(x.dtype).view(1, -1, 1, 1)
        return x * scale + self.shift.to(x.dtype).view(1, -1, 1, 1)


class VGGish(nn.Module):
    """conv 16, 16 | pool | 32, 32 | pool | 64, 64 | GAP | fc, with or without (noisy) BN.

    Args:
        kind: ``"none"``, ``"bn"`` or ``"bn+noise"``.
        generator: the noise's random numbers (``"bn+noise"`` only).

    Shape:
        (N, 1, H, W) -> (N, 10)
    """

    WIDTHS = ((16, 16), (32, 32), (64, 64))

    def __init__(self, kind: str, generator: torch.Generator | None = None) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        chans = 1
        for s, stage in enumerate(self.WIDTHS):
            if s:
                layers.append(nn.MaxPool2d(2))
            for width in stage:
                layers.append(nn.Conv2d(chans, width, 3, padding=1, bias=kind == "none"))
                if kind != "none":
                    layers.append(nn.BatchNorm2d(width))
                if kind == "bn+noise":
                    assert generator is not None
                    layers.append(ShiftScale(width, generator, SHIFT_MAX, VAR_MAX))
                layers.append(nn.ReLU())
                chans = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(chans, 10))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def convs(self) -> list[nn.Conv2d]:
        return [m for m in self.features if isinstance(m, nn.Conv2d)]

    def noises(self) -> list[ShiftScale]:
        return [m for m in self.features if isinstance(m, ShiftScale)]


def gradients(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, list]:
    params = list(model.parameters())
    loss = nn.functional.cross_entropy(model(x), y)
    return float(loss.detach()), list(torch.autograd.grad(loss, params))


def probe(model: nn.Module, x: torch.Tensor, y: torch.Tensor, grads: list, lr: float) -> dict:
    """Loss and gradient at ``w - k lr g`` for every k of :data:`MULTIPLES`, same batch.

    Returns the range of the loss, the largest gradient change ``||g(w - k lr g) - g(w)||``
    and the largest ratio of that change to the distance moved (effective beta-smoothness).
    The model (parameters and BN's running statistics) is restored afterwards.
    """
    saved = copy.deepcopy(model.state_dict())
    params = list(model.parameters())
    start = [p.detach().clone() for p in params]
    gnorm = math.sqrt(sum(float((g**2).sum()) for g in grads))
    losses, changes, betas = [], [], []
    for k in MULTIPLES:
        with torch.no_grad():
            for p, p0, g in zip(params, start, grads, strict=True):
                p.copy_(p0 - k * lr * g)
        loss, new = gradients(model, x, y)
        change = math.sqrt(
            sum(float(((a - b) ** 2).sum()) for a, b in zip(new, grads, strict=True))
        )
        losses.append(loss)
        changes.append(change)
        betas.append(change / (k * lr * gnorm))
    model.load_state_dict(saved)
    return {
        "loss_min": min(losses),
        "loss_max": max(losses),
        "grad_change_min": min(changes),
        "grad_change_max": max(changes),
        "beta": max(betas),
    }
