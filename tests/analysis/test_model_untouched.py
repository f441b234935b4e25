"""summary() never changes the model: parameters, buffers, attributes, hooks, flags, after
success or error, on the meta device or a real one (issue 18's peer-model failures K3)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.utils.prune as prune
import torchvision
from torch import nn
from torch.nn.modules import module as module_globals

from cnnlab.analysis import NeedsRealData, summary
from cnnlab.models import create_model, list_models, model_info


def _values(t: torch.Tensor, sample: bool) -> torch.Tensor:
    """A copy of the values (every 1000th or so with ``sample``: big registry models), and
    where they live."""
    t = t.detach()
    if sample and t.numel() > 4096:
        t = t.flatten()[:: t.numel() // 4096]
    return t.clone()


def _tensor_attributes(model: nn.Module, sample: bool) -> list:
    """Plain tensors (and lists/tuples of them) held as module attributes, not registered."""
    found = []
    for path, m in model.named_modules():
        for name, value in vars(m).items():
            items = value if isinstance(value, (list, tuple)) else [value]
            for i, t in enumerate(items):
                if isinstance(t, torch.Tensor) and not isinstance(t, nn.Parameter):
                    found.append((f"{path}.{name}[{i}]", id(t), t.device, _values(t, sample)))
    return found


def snapshot(model: nn.Module, sample: bool = False) -> dict:
    return {
        "params": [
            (
                n,
                id(p),
                p.data_ptr(),
                type(p),
                p.device,
                p.dtype,
                p.requires_grad,
                _values(p, sample),
            )
            for n, p in model.named_parameters(remove_duplicate=False)
        ],
        "buffers": [
            (n, id(b), b.data_ptr(), b.device, b.dtype, _values(b, sample))
            for n, b in model.named_buffers(remove_duplicate=False)
        ],
        "attributes": _tensor_attributes(model, sample),
        "modules": [(n, id(m), type(m), m.training) for n, m in model.named_modules()],
        "hooks": [
            (len(m._forward_hooks), len(m._forward_pre_hooks), len(m._backward_hooks))
            for m in model.modules()
        ],
        "dict_keys": [sorted(vars(m)) for m in model.modules()],
    }


def assert_same(before: dict, after: dict) -> None:
    for key in ("params", "buffers", "attributes"):
        assert len(before[key]) == len(after[key]), key
        for old, new in zip(before[key], after[key], strict=True):
            *meta_old, value_old = old
            *meta_new, value_new = new
            assert meta_old == meta_new, key
            assert torch.equal(value_old, value_new), (key, old[0])
    for key in ("modules", "hooks", "dict_keys"):
        assert before[key] == after[key], key


def global_state() -> tuple:
    return (
        len(module_globals._global_forward_hooks),
        len(module_globals._global_forward_pre_hooks),
        torch._C._is_torch_function_mode_enabled(),
        torch.is_grad_enabled(),
    )


@pytest.mark.parametrize(
    ("mode", "device"), [("eval", None), ("eval", "cpu"), ("train", None)], ids=str
)
def test_resnet_left_exactly_as_it_was(mode: str, device: str | None) -> None:
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10)
    model.layer2.eval()  # mixed flags must survive
    model.fc.weight.requires_grad_(False)
    before, globals_before, rng = snapshot(model), global_state(), torch.get_rng_state()
    report = summary(model, (3, 64, 64), mode=mode, device=device)
    assert report.total_params == sum(p.numel() for p in model.parameters())
    assert report.trainable_params == report.total_params - 5120
    assert_same(before, snapshot(model))
    assert global_state() == globals_before
    assert torch.equal(rng, torch.get_rng_state())


def test_left_as_it_was_after_errors() -> None:
    model = torchvision.models.resnet18(num_classes=10)
    before, globals_before = snapshot(model), global_state()
    with pytest.raises(ValueError, match=r"layer3\.0\.bn1.*more than 1 value"):
        summary(model, (3, 16, 16), mode="train")  # BatchNorm needs > 1 value per channel
    assert_same(before, snapshot(model))
    assert global_state() == globals_before
    with pytest.raises(ValueError, match="channels"):
        summary(model, (1, 64, 64))
    assert_same(before, snapshot(model))
    assert global_state() == globals_before


class ReuseLinear(nn.Module):
    """torchinfo's ReuseLinear / fvcore's SharedModuleNet / timm's CoaT: one module object
    registered under two names."""

    def __init__(self) -> None:
        super().__init__()
        shared = nn.Linear(10, 10)
        self.first = shared
        self.body = nn.Sequential(nn.ReLU(), shared)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(self.first(x))


@pytest.mark.parametrize(
    ("mode", "device"),
    [("eval", None), ("eval", "cpu"), ("train", None), ("train", "cpu")],
    ids=lambda v: str(v),
)
@pytest.mark.parametrize("factory", [ReuseLinear, lambda: nn.Sequential(*[nn.Linear(10, 10)] * 2)])
def test_module_registered_under_two_names_keeps_its_weights(factory, mode, device) -> None:
    torch.manual_seed(0)
    model = factory()
    x = torch.rand(4, 10)
    expected = model(x)
    before = snapshot(model)
    report = summary(model, (10,), mode=mode, device=device)
    assert report.total_params == 110  # shared: counted once
    assert report.total_macs == 2 * 100  # called twice
    assert_same(before, snapshot(model))
    out = model(x)  # still its own weights: same output, and it still trains
    assert torch.equal(out, expected)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_detector_anchors_stay_on_their_device() -> None:
    # torchvision's AnchorGenerator caches anchors on the input's device: a meta trace used to
    # leave them on meta, and the model's own forward then failed.
    torch.manual_seed(0)
    model = torchvision.models.detection.fasterrcnn_mobilenet_v3_large_320_fpn(
        weights=None,
        weights_backbone=None,
        min_size=96,
        max_size=96,
        rpn_pre_nms_top_n_test=20,
        rpn_post_nms_top_n_test=10,
    ).eval()
    before = snapshot(model)
    with pytest.raises(NeedsRealData, match=r"'nonzero' in layer 'rpn'.*device='cpu'"):
        summary(model, (3, 96, 96), device="meta")
    assert_same(before, snapshot(model))
    report = summary(model, (3, 96, 96))  # the meta trace fails, the CPU run is automatic
    assert report.device == "cpu" and "ran on the CPU" in report.notes[0]
    assert "nonzero" in report.notes[0] and "rpn" in report.notes[0]
    assert report["rpn"].data_dependent and report["roi_heads"].data_dependent
    assert not report["backbone"].data_dependent
    assert_same(before, snapshot(model))
    with torch.no_grad():
        (detections,) = model([torch.rand(3, 96, 96)])
    assert set(detections) == {"boxes", "labels", "scores"}


def test_pruned_layer_keeps_its_computed_weight() -> None:
    conv = nn.Conv2d(3, 4, 3)
    prune.l1_unstructured(conv, "weight", amount=0.5)
    weight = conv.weight  # a plain attribute the pruning pre-hook recomputes
    before = snapshot(conv)
    report = summary(conv, (3, 8, 8))
    assert report.total_macs == 4 * 36 * 27
    assert conv.weight is weight and conv.weight.device.type == "cpu"
    assert_same(before, snapshot(conv))


def test_lazy_module_materialised_on_a_copy() -> None:
    model = nn.Sequential(nn.LazyLinear(10), nn.ReLU())
    report = summary(model, (20,))
    assert report.total_params == 20 * 10 + 10 and report.total_macs == 200
    assert isinstance(model[0], nn.LazyLinear)  # the original is still lazy
    assert isinstance(model[0].weight, nn.parameter.UninitializedParameter)
    assert model(torch.rand(2, 20)).shape == (2, 10)  # and materialises on its own forward


class Stateful(nn.Module):
    """A forward that writes into a plain tensor attribute and caches its input."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 3, padding=1)
        self.calls = torch.zeros(())
        self.frozen = nn.Parameter(torch.ones(2, 1, 1), requires_grad=False)
        self.cache: list[torch.Tensor] = [torch.full((2,), 7.0)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        self.cache = [x]
        return self.conv(x) * self.frozen


@pytest.mark.parametrize("device", [None, "cpu"], ids=["meta", "cpu"])
@pytest.mark.parametrize("mode", ["eval", "train"])
def test_plain_attributes_and_frozen_parameters_untouched(device, mode) -> None:
    model = Stateful()
    before = snapshot(model)
    summary(model, (2, 5, 5), device=device, mode=mode)
    assert_same(before, snapshot(model))
    assert model.calls.item() == 0 and model.cache[0].tolist() == [7.0, 7.0]


def test_input_tensors_given_are_not_changed() -> None:
    class InPlace(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x += 1  # torchinfo's RegisterParameter case: in place on the input
            return x

    x = torch.zeros(2, 3)
    for device in (None, "cpu"):
        summary(InPlace(), example_inputs=(x,), device=device)
        assert torch.equal(x, torch.zeros(2, 3))


def _cpu_model(name: str) -> nn.Module:
    """The registry model on the CPU with distinct values in every tensor, built fast: the
    architecture on meta, memory allocated without initialisation, then filled."""
    try:
        with torch.device("meta"):
            model = create_model(name).to_empty(device="cpu")
    except (NotImplementedError, RuntimeError):  # a constructor that needs values
        return create_model(name)
    with torch.no_grad():
        for i, t in enumerate([*model.parameters(), *model.buffers()]):
            t.fill_(i % 7 + 1 if t.is_floating_point() else i % 3)
    return model


@pytest.mark.slow
@pytest.mark.parametrize("name", list_models())
def test_every_registry_model_is_left_as_it_was(name: str) -> None:
    model = _cpu_model(name)
    before = snapshot(model, sample=True)
    report = summary(model, model_info(name).default_input_size)
    assert report.total_params == sum(p.numel() for p in model.parameters())
    assert_same(before, snapshot(model, sample=True))
