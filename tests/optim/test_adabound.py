"""cnnlab.optim.AdaBound against the authors' reference package (``adabound`` 0.0.5).

Trajectories are compared in float64 (relative 1e-9) over 100 steps under a StepLR scheduler for
every code path (the eager multi-tensor kernels over batches of pieces or one piece at a time,
and the fused one-pass kernel, run as plain Python and once really compiled), for AdaBound and
AMSBound, with and without weight decay. The reference calls the deprecated
``add(Number, Tensor)`` overload, which torch 2.14 still accepts with a warning; it runs
unchanged (the warning is silenced here).
"""

from __future__ import annotations

import copy
import math
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

import cnnlab.optim.adabound as adabound_module
from cnnlab.optim import AdaBound

adabound_ref = pytest.importorskip("adabound")

STEPS = 100
RTOL = 1e-9


@pytest.fixture(autouse=True)
def _quiet_reference() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="This overload of add", category=UserWarning)
        yield


def make_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 2)
    )


def batches(seed: int = 1) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(256, 5, generator=g, dtype=torch.float64)
    y = torch.stack([torch.sin(2 * x[:, 0]), x[:, 1] * x[:, 2]], dim=1)
    order = torch.randint(0, 256, (STEPS, 16), generator=g)
    return [(x[i], y[i]) for i in order]


BATCHES = batches()


def train(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    steps: range,
    sched: torch.optim.lr_scheduler.LRScheduler | None = None,
    before_step: Callable[[torch.optim.Optimizer], None] | None = None,
) -> list[list[torch.Tensor]]:
    """Train on BATCHES[steps]; return the parameters after every step."""
    history = []
    for t in steps:
        x, y = BATCHES[t]
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        if before_step is not None:
            before_step(opt)
        opt.step()
        if sched is not None:
            sched.step()
        history.append([p.detach().clone() for p in model.parameters()])
    return history


def assert_same_trajectory(ours: list[list[torch.Tensor]], ref: list[list[torch.Tensor]]) -> None:
    assert len(ours) == len(ref)
    for t, (a, b) in enumerate(zip(ours, ref, strict=True)):
        for p, q in zip(a, b, strict=True):
            torch.testing.assert_close(p, q, rtol=RTOL, atol=0, msg=lambda m, t=t: f"step {t}: {m}")


def run_with_steplr(factory: Callable[[Any], torch.optim.Optimizer]) -> list[list[torch.Tensor]]:
    model = make_model().double()
    opt = factory(model.parameters())
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.3)
    return train(model, opt, range(STEPS), sched)


HYPER: dict[str, dict[str, Any]] = {
    "adabound": {"lr": 1e-2},
    "adabound-wd": {"lr": 1e-2, "weight_decay": 1e-2},
    "adabound-tight": {"lr": 3e-3, "final_lr": 0.05, "gamma": 0.05, "betas": (0.8, 0.99)},
    "amsbound": {"lr": 1e-2, "amsbound": True},
    "amsbound-wd-tight": {"lr": 1e-2, "amsbound": True, "weight_decay": 1e-2, "gamma": 0.05},
}
PATHS: dict[str, dict[str, Any]] = {
    "eager-batches": {"fused": False},
    "eager-one-each": {"fused": False, "foreach": False},
    "fused": {"fused": True},
}

CASES = [(h, p) for h in HYPER for p in PATHS]


def uncompiled(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make ``torch.compile`` return the function itself (the fused path then runs as plain
    Python, with the same arithmetic, in no time); return the list it appends a 1 to per call."""
    calls: list[int] = []

    def fake_compile(fn: Callable[..., Any], **kwargs: Any) -> Callable[..., Any]:
        calls.append(1)
        return fn

    monkeypatch.setattr(torch, "compile", fake_compile)
    monkeypatch.setattr(adabound_module, "_compiled", None)
    monkeypatch.setattr(adabound_module, "_compile_failed", False)
    return calls


@pytest.mark.parametrize(("case", "path"), CASES, ids=[f"{h}-{p}" for h, p in CASES])
def test_trajectory_equals_reference_with_steplr(
    case: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(adabound_module, "_CHUNK", 37)  # split the larger tensors into pieces
    monkeypatch.setattr(adabound_module, "_FUSED_MIN", 2)  # every tensor but 1-element ones
    calls = uncompiled(monkeypatch)
    hyper = HYPER[case]
    ours = run_with_steplr(lambda ps: AdaBound(ps, **hyper, **PATHS[path]))
    ref = run_with_steplr(lambda ps: adabound_ref.AdaBound(ps, **hyper))
    assert_same_trajectory(ours, ref)
    moved = (ours[-1][0] - make_model().double()[0].weight).abs().max()
    assert moved > 0.05
    assert calls == ([1] if path == "fused" else [])


def test_compiled_kernel_equals_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel torch.compile really makes (where a compiler is present), AMSBound with L2
    decay: the variant with the most arithmetic. Skipped where compiling fails."""
    monkeypatch.setattr(adabound_module, "_FUSED_MIN", 2)
    monkeypatch.setattr(adabound_module, "_compiled", None)
    monkeypatch.setattr(adabound_module, "_compile_failed", False)
    hyper = HYPER["amsbound-wd-tight"]
    ours = run_with_steplr(lambda ps: AdaBound(ps, **hyper, fused=True))
    if adabound_module._compile_failed:
        pytest.skip("torch.compile cannot compile here")
    ref = run_with_steplr(lambda ps: adabound_ref.AdaBound(ps, **hyper))
    assert_same_trajectory(ours, ref)


def test_compile_failure_falls_back_to_eager_and_is_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_compile(fn: Callable[..., Any], **kwargs: Any) -> Callable[..., Any]:
        def run(*args: Any) -> None:
            raise RuntimeError("no C++ compiler")

        return run

    monkeypatch.setattr(torch, "compile", broken_compile)
    monkeypatch.setattr(adabound_module, "_compiled", None)
    monkeypatch.setattr(adabound_module, "_compile_failed", False)
    monkeypatch.setattr(adabound_module, "_FUSED_MIN", 2)
    hyper = HYPER["adabound-wd"]
    with caplog.at_level("INFO", logger="cnnlab.optim.adabound"):
        ours = run_with_steplr(lambda ps: AdaBound(ps, **hyper, fused=True))
    ref = run_with_steplr(lambda ps: adabound_ref.AdaBound(ps, **hyper))
    assert_same_trajectory(ours, ref)
    failures = [r for r in caplog.records if "no C++ compiler" in r.getMessage()]
    assert len(failures) == 1 and failures[0].levelname == "WARNING"  # explicit fused=True


def test_fused_by_default_only_for_large_groups_on_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = uncompiled(monkeypatch)
    monkeypatch.setattr(adabound_module, "_FUSED_MIN", 2)
    run_with_steplr(lambda ps: AdaBound(ps, lr=1e-2))  # 386 elements: not worth compiling
    assert calls == []
    monkeypatch.setattr(adabound_module, "_AUTO_FUSED_MIN", 100)
    hyper = HYPER["adabound-wd"]
    ours = run_with_steplr(lambda ps: AdaBound(ps, **hyper))
    assert calls == [1]
    assert_same_trajectory(ours, run_with_steplr(lambda ps: adabound_ref.AdaBound(ps, **hyper)))


def test_channels_last_parameters_on_every_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A conv weight in channels-last layout (state created in the same layout) is updated
    element for element like the reference's contiguous one."""
    monkeypatch.setattr(adabound_module, "_CHUNK", 37)
    monkeypatch.setattr(adabound_module, "_FUSED_MIN", 2)
    uncompiled(monkeypatch)
    g = torch.Generator().manual_seed(0)
    start = torch.randn(4, 3, 5, 5, generator=g, dtype=torch.float64)
    grads = [torch.randn(4, 3, 5, 5, generator=g, dtype=torch.float64) for _ in range(20)]

    def run(factory: Callable[[Any], torch.optim.Optimizer], layout: torch.memory_format) -> Any:
        w = nn.Parameter(start.clone().to(memory_format=layout))
        opt = factory([w])
        for grad in grads:
            w.grad = grad.clone().to(memory_format=layout)
            opt.step()
        return w.detach()

    hyper = {"lr": 1e-2, "weight_decay": 1e-2, "amsbound": True}
    ref = run(lambda ps: adabound_ref.AdaBound(ps, **hyper), torch.contiguous_format)
    for path in PATHS.values():
        ours = run(lambda ps, path=path: AdaBound(ps, **hyper, **path), torch.channels_last)
        assert ours.is_contiguous(memory_format=torch.channels_last)
        torch.testing.assert_close(ours, ref, rtol=RTOL, atol=0)


def test_bounds_are_computed_once_per_step_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-step scalars are shared by all parameters at the same step (the old per-group
    cache evaluated them for every parameter anyway)."""
    calls: list[int] = []
    original = adabound_module._bounds

    def counting(group: dict[str, Any], step: int) -> Any:
        calls.append(step)
        return original(group, step)

    monkeypatch.setattr(adabound_module, "_bounds", counting)
    model = make_model().double()
    opt = AdaBound(model.parameters(), lr=1e-2, fused=False)
    train(model, opt, range(3))
    assert calls == [1, 2, 3]


def test_no_private_torch_api_but_the_foreach_ops() -> None:
    source = Path(adabound_module.__file__).read_text()
    assert re.findall(r"torch\._(?!foreach_)\w+", source) == []


def test_float32_default_path_matches_reference() -> None:
    def run(factory: Callable[[Any], torch.optim.Optimizer]) -> list[list[torch.Tensor]]:
        model = make_model()
        opt = factory(model.parameters())
        out = []
        for x, y in BATCHES[:50]:
            opt.zero_grad()
            ((model(x.float()) - y.float()) ** 2).mean().backward()
            opt.step()
            out.append([p.detach().clone() for p in model.parameters()])
        return out

    ours = run(lambda ps: AdaBound(ps, lr=1e-2, weight_decay=1e-3))
    ref = run(lambda ps: adabound_ref.AdaBound(ps, lr=1e-2, weight_decay=1e-3))
    for p, q in zip(ours[-1], ref[-1], strict=True):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-6)


def test_state_dict_resume_equals_straight_run_and_reference() -> None:
    """Stop after 50 steps (lr already lowered by StepLR), rebuild from state dicts, go on.

    The rebuilt optimizer is created with the *current* lr; only the base_lr stored in the
    state dict keeps final_lr on the reference's schedule.
    """
    hyper = {"lr": 1e-2, "final_lr": 0.05, "gamma": 0.05, "amsbound": True}
    ref = run_with_steplr(lambda ps: adabound_ref.AdaBound(ps, **hyper))

    model = make_model().double()
    opt = AdaBound(model.parameters(), **hyper)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.3)
    first = train(model, opt, range(50), sched)
    saved = copy.deepcopy(
        {"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict()}
    )

    model2 = make_model(seed=123).double()
    model2.load_state_dict(saved["model"])
    current_lr = saved["opt"]["param_groups"][0]["lr"]
    assert current_lr == pytest.approx(1e-2 * 0.3)
    opt2 = AdaBound(model2.parameters(), **{**hyper, "lr": current_lr})
    sched2 = torch.optim.lr_scheduler.StepLR(opt2, step_size=30, gamma=0.3)
    opt2.load_state_dict(saved["opt"])
    sched2.load_state_dict(saved["sched"])
    assert opt2.param_groups[0]["base_lr"] == 1e-2
    second = train(model2, opt2, range(50, STEPS), sched2)
    assert_same_trajectory(first + second, ref)


def test_loads_a_reference_state_dict() -> None:
    hyper = {"lr": 1e-2, "weight_decay": 1e-3}
    ref_model = make_model().double()
    ref_opt = adabound_ref.AdaBound(ref_model.parameters(), **hyper)
    train(ref_model, ref_opt, range(40))

    model = copy.deepcopy(ref_model)
    opt = AdaBound(model.parameters(), **hyper)
    opt.load_state_dict(copy.deepcopy(ref_opt.state_dict()))
    ours = train(model, opt, range(40, STEPS))
    ref = train(ref_model, ref_opt, range(40, STEPS))
    assert_same_trajectory(ours, ref)


def test_add_param_group_gets_its_own_base_lr() -> None:
    """A group added at step 30 behaves like a reference optimizer created for it at step 30.

    (The reference keeps ``base_lrs`` from construction and zips them with the groups, so it
    silently skips groups added later.)
    """
    hyper = {"lr": 1e-2, "final_lr": 0.05, "gamma": 0.05}
    model, ref_model = make_model().double(), make_model().double()
    head, ref_head = list(model[4].parameters()), list(ref_model[4].parameters())
    body = [p for m in list(model)[:4] for p in m.parameters()]
    ref_body = [p for m in list(ref_model)[:4] for p in m.parameters()]
    for p in (*head, *ref_head):
        p.requires_grad_(False)

    opt = AdaBound(body, **hyper)
    ref_opts = [adabound_ref.AdaBound(ref_body, **hyper)]
    train(model, opt, range(30))
    for ref_opt in ref_opts:
        train(ref_model, ref_opt, range(30))

    for p in (*head, *ref_head):
        p.requires_grad_(True)
    opt.add_param_group({"params": head, "lr": 2e-2})
    assert opt.param_groups[1]["base_lr"] == 2e-2
    ref_opts.append(adabound_ref.AdaBound(ref_head, **{**hyper, "lr": 2e-2}))

    class Both(torch.optim.Optimizer):  # steps the two reference optimizers together
        def __init__(self) -> None:
            self.opts = ref_opts

        def zero_grad(self, set_to_none: bool = True) -> None:
            for o in self.opts:
                o.zero_grad()

        def step(self, closure: Any = None) -> None:
            for o in self.opts:
                o.step()

    ours = train(model, opt, range(30, STEPS))
    ref = train(ref_model, Both(), range(30, STEPS))
    assert_same_trajectory(ours, ref)


@pytest.mark.parametrize("path", list(PATHS))
def test_decoupled_weight_decay_is_reference_plus_adamw_shrink(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(adabound_module, "_FUSED_MIN", 2)
    uncompiled(monkeypatch)
    lr, wd = 1e-2, 0.1

    def shrink(opt: torch.optim.Optimizer) -> None:
        with torch.no_grad():
            for p in opt.param_groups[0]["params"]:
                p.mul_(1 - opt.param_groups[0]["lr"] * wd)

    model, ref_model = make_model().double(), make_model().double()
    opt = AdaBound(
        model.parameters(), lr=lr, weight_decay=wd, decoupled_weight_decay=True, **PATHS[path]
    )
    ref_opt = adabound_ref.AdaBound(ref_model.parameters(), lr=lr)
    ours = train(model, opt, range(STEPS))
    ref = train(ref_model, ref_opt, range(STEPS), before_step=shrink)
    assert_same_trajectory(ours, ref)


@pytest.mark.parametrize("path", list(PATHS))
def test_lr_scheduled_to_zero_freezes_parameters_like_reference(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(adabound_module, "_FUSED_MIN", 2)
    uncompiled(monkeypatch)

    def run(factory: Callable[[Any], torch.optim.Optimizer]) -> list[list[torch.Tensor]]:
        model = make_model().double()
        opt = factory(model.parameters())
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=20, gamma=0.0)
        return train(model, opt, range(40), sched)

    ours = run(lambda ps: AdaBound(ps, lr=1e-2, **PATHS[path]))
    ref = run(lambda ps: adabound_ref.AdaBound(ps, lr=1e-2))
    assert_same_trajectory(ours, ref)
    for p, q in zip(ours[20], ours[-1], strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


def test_closure_and_params_without_grad() -> None:
    model = make_model().double()
    opt = AdaBound(model.parameters(), lr=1e-2)
    x, y = BATCHES[0]
    model[4].bias.requires_grad_(False)
    before = model[4].bias.detach().clone()

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert isinstance(loss, torch.Tensor) and loss.item() > 0
    torch.testing.assert_close(model[4].bias, before, rtol=0, atol=0)
    assert model[4].bias not in opt.state


BAD: list[tuple[dict[str, Any], str]] = [
    ({"lr": -1.0}, "lr must be"),
    ({"lr": math.inf}, "lr must be a finite number >= 0, got inf"),
    ({"lr": math.nan}, "lr must be a finite number >= 0, got nan"),
    ({"eps": 0.0}, "eps must be a finite number > 0"),
    ({"betas": (1.0, 0.999)}, r"betas\[0\] must be a finite number in \[0, 1\)"),
    ({"betas": (0.9, 1.5)}, r"betas\[1\]"),
    ({"betas": 0.9}, "pair"),
    ({"final_lr": -0.1}, "final_lr must be"),
    ({"final_lr": math.inf}, "final_lr must be a finite number"),
    ({"gamma": 0.0}, "gamma must be a finite number in"),
    ({"gamma": 1.0}, "gamma must be a finite number in"),
    ({"weight_decay": -1e-4}, "weight_decay must be"),
    ({"weight_decay": math.inf}, "weight_decay must be a finite number >= 0, got inf"),
    ({"lr": 0.0}, "base_lr must be a finite number > 0"),
]


@pytest.mark.parametrize(
    ("hyper", "match"), BAD, ids=["-".join(f"{k}={v}" for k, v in h.items()) for h, _ in BAD]
)
def test_bad_hyperparameters_raise_value_error(hyper: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        AdaBound(make_model().parameters(), **hyper)


def test_bad_added_group_raises_and_is_not_kept() -> None:
    model = make_model()
    opt = AdaBound(list(model[0].parameters()), lr=1e-3)
    with pytest.raises(ValueError, match="gamma must be"):
        opt.add_param_group({"params": list(model[2].parameters()), "gamma": 2.0})
    assert len(opt.param_groups) == 1


def test_sparse_gradient_raises_value_error() -> None:
    emb = nn.Embedding(10, 3, sparse=True)
    opt = AdaBound(emb.parameters())
    emb(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(ValueError, match="sparse"):
        opt.step()
