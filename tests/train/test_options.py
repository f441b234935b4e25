"""Each training option against an independent computation of the same step.

A run of one full-batch iteration (batch 2048 > the 1,437 training digits) with plain SGD is
replayed by hand: the initial weights and the generator state are copied before ``fit``, the
loss and its gradients are computed with torch autograd from the formula the option stands
for, and the trainer's weights after the step must equal ``w - lr * g``.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from rich.console import Console
from torch import nn

from cnnlab.train import TrainConfig, Trainer, load_checkpoint, read_metrics_csv

LR = 0.1


def _quiet() -> Console:
    return Console(file=io.StringIO(), highlight=False, soft_wrap=True)


def _cfg(tmp_path: Path, name: str, **kw: object) -> TrainConfig:
    base = {
        "epochs": 1,
        "batch_size": 2048,
        "optimizer": "sgd",
        "lr": LR,
        "seed": 3,
        "device": "cpu",
        "out": str(tmp_path / name),
    }
    return TrainConfig(**{**base, **kw})


class OneStep:
    """A trainer about to take its only step, with what a by-hand replay needs."""

    def __init__(self, tmp_path: Path, name: str, **kw: object) -> None:
        self.trainer = Trainer(_cfg(tmp_path, name, **kw), console=_quiet())
        self.initial = copy.deepcopy(self.trainer.model)
        self.rng = torch.get_rng_state()  # dropout of the step draws from here
        order = self.trainer.sampler.order(0)
        x, y = self.trainer.data.train.tensors
        self.x, self.y = x[order], y[order]

    def reference_grads(
        self, extra: Callable[[nn.Module], torch.Tensor] | None = None
    ) -> dict[str, torch.Tensor]:
        """Gradients of the mean cross-entropy (plus ``extra``) at the initial weights."""
        model = copy.deepcopy(self.initial).train()
        with torch.random.fork_rng(devices=[]):  # the trainer's own draws stay untouched
            torch.set_rng_state(self.rng)
            loss = F.cross_entropy(model(self.x), self.y)
        if extra is not None:
            loss = loss + extra(model)
        names = [n for n, _ in model.named_parameters()]
        grads = torch.autograd.grad(loss, [p for _, p in model.named_parameters()])
        return dict(zip(names, grads, strict=True))

    def fit(self) -> dict[str, torch.Tensor]:
        self.trainer.fit()
        return dict(self.trainer.model.named_parameters())

    def start(self) -> dict[str, torch.Tensor]:
        return dict(self.initial.named_parameters())


def _assert_step(after: dict, start: dict, grads: dict) -> None:
    for name, g in grads.items():
        expected = start[name].detach() - LR * g
        torch.testing.assert_close(after[name].detach(), expected, rtol=1e-5, atol=1e-6, msg=name)


def _conv_and_linear_weights(model: nn.Module) -> set[str]:
    """Independent of cnnlab's rule: the ``weight`` of every Conv2d and Linear layer."""
    return {
        f"{m_name}.weight"
        for m_name, m in model.named_modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    }


def test_l1_adds_lambda_sign_w_to_the_gradient_of_weights_only(tmp_path: Path) -> None:
    lam = 0.01
    step = OneStep(tmp_path, "l1", l1=lam)
    grads = step.reference_grads()
    start = step.start()
    weights = _conv_and_linear_weights(step.initial)
    assert weights and any(n.endswith("bias") for n in grads)  # biases and BN params exist
    for name in grads:
        if name in weights:
            grads[name] = grads[name] + lam * torch.sign(start[name].detach())
    _assert_step(step.fit(), start, grads)


def test_weight_decay_equals_an_l2_penalty_in_the_loss(tmp_path: Path) -> None:
    # SGD's weight_decay adds wd * w to the gradient: the gradient of wd/2 * ||w||^2.
    wd = 0.05
    step = OneStep(tmp_path, "wd", weight_decay=wd)
    grads = step.reference_grads(lambda m: wd / 2 * sum((p**2).sum() for p in m.parameters()))
    _assert_step(step.fit(), step.start(), grads)


def test_clip_grad_norm_scales_the_gradient_to_the_max_norm(tmp_path: Path) -> None:
    max_norm = 0.05
    step = OneStep(tmp_path, "clip", clip_grad_norm=max_norm)
    grads = step.reference_grads()
    norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads.values()))
    assert norm > max_norm  # the clip is active
    coef = min(1.0, max_norm / (float(norm) + 1e-6))  # clip_grad_norm_'s formula
    _assert_step(step.fit(), step.start(), {n: g * coef for n, g in grads.items()})


def test_input_noise_is_gaussian_on_training_inputs_only(tmp_path: Path) -> None:
    sigma = 0.5
    step = OneStep(tmp_path, "noise", input_noise=sigma)
    seen: list[tuple[bool, torch.Tensor]] = []
    step.trainer.model.register_forward_pre_hook(
        lambda m, args: seen.append((m.training, args[0].detach().clone()))
    )
    step.fit()
    (train_in,) = [x for training, x in seen if training]
    noise = train_in - step.x
    assert noise.std().item() == pytest.approx(sigma, rel=0.02)  # 92k draws: 5 sigma ~ 1.2%
    assert abs(noise.mean().item()) < 5 * sigma / noise.numel() ** 0.5
    val_x = step.trainer.data.val.tensors[0]
    assert torch.equal(torch.cat([x for training, x in seen if not training]), val_x)


def test_ema_weights_follow_the_recurrence_and_are_what_validation_uses(tmp_path: Path) -> None:
    decay = 0.8
    raw: list[dict[str, torch.Tensor]] = []

    def record(trainer: Trainer, epoch: int, step: int) -> None:
        raw.append({k: v.detach().clone() for k, v in trainer.model.state_dict().items()})

    cfg = _cfg(tmp_path, "ema", batch_size=512, ema=decay, epochs=1)
    trainer = Trainer(cfg, console=_quiet(), on_iteration=record)
    trainer.fit()
    assert len(raw) == 3
    ema = dict(raw[0])  # the first update copies the weights
    for w in raw[1:]:
        for k, v in ema.items():
            if v.is_floating_point():
                ema[k] = decay * v + (1 - decay) * w[k]
    averaged = trainer.ema.module.state_dict()
    for k, v in ema.items():
        if v.is_floating_point():
            torch.testing.assert_close(averaged[k], v, rtol=1e-5, atol=1e-7, msg=k)
    best = load_checkpoint(tmp_path / "ema" / "best.pt")
    for k in ema:
        assert torch.equal(best["model"][k], averaged[k])
        assert torch.equal(best["train_model"][k], raw[-1][k])
    # Validation accuracy is the averaged model's: evaluate it by hand.
    model = copy.deepcopy(trainer.ema.module).eval()
    x, y = trainer.data.val.tensors
    with torch.no_grad():
        acc = (model(x).argmax(1) == y).double().mean().item()
    assert read_metrics_csv(tmp_path / "ema" / "metrics.csv")[0].val_acc == pytest.approx(acc)


def test_channels_last_trains_the_same_weights(tmp_path: Path) -> None:
    plain = OneStep(tmp_path, "plain").fit()
    step = OneStep(tmp_path, "cl", channels_last=True)
    conv = step.trainer.model.features[3].weight  # 32 x 32 x 3 x 3: the layouts differ
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    after = step.fit()
    # oneDNN's channels-last convolutions sum in another order: equal up to float32 rounding
    # (amplified by batch norm), against a step of about 1e-2.
    for name, p in plain.items():
        torch.testing.assert_close(after[name], p, rtol=1e-4, atol=5e-5, msg=name)


def test_amp_on_the_cpu_is_bfloat16_autocast(tmp_path: Path) -> None:
    step = OneStep(tmp_path, "amp", amp=True)
    dtypes: list[torch.dtype] = []
    step.trainer.model.features[0].register_forward_hook(lambda m, a, out: dtypes.append(out.dtype))
    model = copy.deepcopy(step.initial).train()
    with torch.random.fork_rng(devices=[]), torch.autocast("cpu", dtype=torch.bfloat16):
        torch.set_rng_state(step.rng)
        expected = F.cross_entropy(model(step.x), step.y).item()
    step.fit()
    assert dtypes[0] == torch.bfloat16
    assert step.trainer.history[0].train_loss == pytest.approx(expected, rel=1e-6)


def test_compile_trains_the_same_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # torch.compile's graph capture (dynamo) with the eager backend: the wiring (what is
    # compiled, what is saved) without minutes of C++ compilation in the test suite.
    compiled: list[nn.Module] = []
    original = torch.compile

    def eager_compile(model: nn.Module, **kwargs: object) -> nn.Module:
        compiled.append(model)
        return original(model, backend="eager")

    monkeypatch.setattr(torch, "compile", eager_compile)
    plain = OneStep(tmp_path, "plain").fit()
    step = OneStep(tmp_path, "compiled", compile=True)
    after = step.fit()
    assert compiled == [step.trainer.model]
    for name, p in plain.items():
        torch.testing.assert_close(after[name], p, rtol=1e-6, atol=1e-7, msg=name)
    saved = load_checkpoint(tmp_path / "compiled" / "last.pt")["model"]
    assert saved.keys() == step.trainer.model.state_dict().keys()  # no _orig_mod. prefix
