"""The machinery of the ``regularization`` experiment: the small CNN, an arm's recipe and its
training loop, the early-stopping replay and the ensemble's probabilities.

A private module (its name starts with ``_``): no experiment of its own.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn
from torchvision.transforms import v2

from cnnlab.data.transforms.presets import PRESETS
from cnnlab.experiments.loop import Split, batches, evaluate
from cnnlab.optim import create_optimizer
from cnnlab.train.monitor import EarlyStopping
from cnnlab.train.regularisation import l1_penalty, penalised_weights

LR, BATCH = 0.05, 50  # SGD with momentum 0.9 (the optimizer named "momentum")


class SmallCNN(nn.Module):
    """conv3x3(16)-ReLU-maxpool, conv3x3(32)-ReLU-maxpool, fc 128, ReLU, dropout, fc.

    Shape:
        (N, 1, 14, 14) -> (N, 10)
    """

    def __init__(self, dropout: float = 0.0) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(32 * 3 * 3, 128),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(128, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@dataclass
class Recipe:
    """One arm's training options (the default is ``none``)."""

    weight_decay: float = 0.0
    l1: float = 0.0
    dropout: float = 0.0
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None
    label_smoothing: float = 0.0
    patience: int | None = None


@dataclass
class Trained:
    """A trained net and its per-epoch monitored loss (early stopping)."""

    model: nn.Module
    epochs_run: int
    curve: list[float] = field(default_factory=list)
    best_epoch: int = 0


def crop_augment(background: float) -> Callable[[torch.Tensor], torch.Tensor]:
    """The ``crop`` preset's steps for 14x14 images, drawn per image, padding with the
    (standardised) background value. Uses torch's global generator, seeded per run."""
    steps = v2.Compose(PRESETS["crop"].steps((14, 14), {"others": background}))

    def apply(x: torch.Tensor) -> torch.Tensor:
        return torch.stack([steps(image) for image in x])

    return apply


def train(
    recipe: Recipe,
    data: Split,
    epochs: int,
    init: dict[str, torch.Tensor],
    seed: int,
    monitored: Split | None = None,
) -> Trained:
    """Train a :class:`SmallCNN` from ``init`` with ``recipe``; with ``recipe.patience``, stop
    early on the loss of ``monitored`` and return the best epoch's weights."""
    model = SmallCNN(recipe.dropout)
    model.load_state_dict(init)
    opt = create_optimizer("momentum", model.parameters(), lr=LR, weight_decay=recipe.weight_decay)
    criterion = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    l1_weights = penalised_weights(model) if recipe.l1 else []
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # dropout's masks and the augmentation's draws
    stopper = EarlyStopping(recipe.patience, "min") if recipe.patience else None
    out = Trained(model, epochs)
    best_state: dict[str, torch.Tensor] | None = None
    for epoch in range(1, epochs + 1):
        model.train()
        for idx in batches(len(data), BATCH, gen):
            x = data.x[idx] if recipe.augment is None else recipe.augment(data.x[idx])
            opt.zero_grad(set_to_none=True)
            loss = criterion(model(x), data.y[idx])
            if recipe.l1:
                loss = loss + recipe.l1 * l1_penalty(l1_weights)
            loss.backward()
            opt.step()
        if stopper is not None and monitored is not None:
            value = evaluate(model, monitored)[0]
            out.curve.append(value)
            if value < min(out.curve[:-1], default=math.inf):  # the trainer's best.pt rule
                out.best_epoch = epoch
                best_state = {k: v.clone() for k, v in model.state_dict().items()}
            if stopper.update(value, epoch):
                out.epochs_run = epoch
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    return out


def replay_early_stop(curve: list[float], patience: int) -> int:
    """The epoch after which a run with this monitored curve stops (0: never), by the rule
    "``patience`` epochs in a row without a new minimum" written out again."""
    best, wait = math.inf, 0
    for epoch, value in enumerate(curve, start=1):
        best, wait = (value, 0) if value < best else (best, wait + 1)
        if wait == patience:
            return epoch
    return 0


@torch.no_grad()
def probabilities(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    model.eval()
    return model(x).softmax(1)


def accuracy(prob: torch.Tensor, y: torch.Tensor) -> float:
    return float((prob.argmax(1) == y).float().mean())


def confidence(prob: torch.Tensor) -> float:
    """The mean probability of the predicted class."""
    return float(prob.max(1).values.mean())


def nll(prob: torch.Tensor, y: torch.Tensor) -> float:
    return float(-prob.double().clamp_min(1e-300)[torch.arange(len(y)), y].log().mean())
