"""Training cost: backward MACs against torch's FlopCounterMode on a real forward + backward, and
one step's memory against what autograd saves (saved_tensors_hooks) and what torch.optim keeps."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn
from torch.autograd.graph import saved_tensors_hooks
from torch.utils.flop_counter import FlopCounterMode

from cnnlab.analysis import TrainingMemory, summary
from cnnlab.core.validate import InvalidArgument


def flop_counter_macs(model: nn.Module, *inputs: torch.Tensor) -> tuple[int, int]:
    """Forward and forward + backward MACs counted by torch (FLOPs / 2) on a real step."""
    model.train()
    with FlopCounterMode(display=False) as forward:
        model(*inputs)
    with FlopCounterMode(display=False) as step:
        out = model(*inputs)
        (out[0] if isinstance(out, tuple) else out).float().sum().backward()
    return forward.get_total_flops() // 2, step.get_total_flops() // 2


def test_resnet18_training_macs_equal_flop_counter() -> None:
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10)
    x = torch.rand(1, 3, 64, 64)  # a training image batch: no gradient wrt the input
    forward, step = flop_counter_macs(model, x)
    report = summary(model, (3, 64, 64), mode="train")
    assert report.total_macs == forward
    assert report.total_training_macs == pytest.approx(step, rel=0.01)
    # the first convolution computes no input gradient, every other layer does
    conv1 = report["conv1"]
    assert conv1.backward_macs == conv1.macs
    assert report["layer1.0.conv1"].backward_macs == 2 * report["layer1.0.conv1"].macs


def test_input_that_needs_a_gradient_and_frozen_layers_follow_autograd() -> None:
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10)
    for p in [*model.conv1.parameters(), *model.bn1.parameters(), *model.layer1.parameters()]:
        p.requires_grad_(False)  # frozen stem: no weight gradients, and no input gradients
    x = torch.rand(2, 3, 32, 32)  # BatchNorm trains on more than one value per channel
    _, frozen_step = flop_counter_macs(model, x)
    frozen = summary(model, example_inputs=(x,), mode="train")
    assert frozen.total_training_macs == pytest.approx(frozen_step, rel=0.01)
    assert frozen["layer1.1.conv2"].backward_macs == 0
    x.requires_grad_(True)  # e.g. adversarial training: the input's gradient is needed
    _, step = flop_counter_macs(model, x)
    report = summary(model, example_inputs=(x,), mode="train")
    assert report.total_training_macs == pytest.approx(step, rel=0.01)
    assert report["conv1"].backward_macs == report["conv1"].macs
    assert report.total_training_macs > frozen.total_training_macs


def test_vision_transformer_training_macs_equal_flop_counter_on_meta() -> None:
    with torch.device("meta"):
        model = torchvision.models.vit_b_16()
    x = torch.empty(1, 3, 224, 224, device="meta")
    forward, step = flop_counter_macs(model, x)  # autograd runs on meta tensors too
    report = summary(model, (3, 224, 224), mode="train")
    assert report.total_macs == forward
    assert report.total_training_macs == pytest.approx(step, rel=0.01)
    assert round(report.total_macs / 1e9, 3) == 17.564  # torchvision's published GFLOPS


class TextCNN(nn.Module):
    """Token ids in: the input cannot need a gradient; the embedding's weight does."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(100, 16)
        self.conv = nn.Conv1d(16, 32, 3)
        self.fc = nn.Linear(32, 4)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        y = self.conv(self.embedding(ids).transpose(1, 2)).relu()
        return self.fc(y.amax(2))


def test_model_whose_input_needs_no_gradient_equals_flop_counter() -> None:
    torch.manual_seed(0)
    model = TextCNN()
    forward, step = flop_counter_macs(model, torch.randint(0, 100, (1, 12)))
    report = summary(model, (12,), mode="train")
    assert report.total_macs == forward
    assert report.total_training_macs == pytest.approx(step, rel=0.01)


@pytest.mark.parametrize("device", ["meta", "cpu"])
def test_recurrent_layers_follow_the_sequence_and_flop_counter(device: str) -> None:
    # On the CPU the LSTM is one oneDNN op per layer; its rule gives the decomposition's count.
    lstm = nn.LSTM(8, 16, num_layers=2, batch_first=True)
    with torch.device("meta"):
        reference = nn.LSTM(8, 16, num_layers=2, batch_first=True)
    forward, step = flop_counter_macs(reference, torch.empty(1, 5, 8, device="meta"))
    report = summary(lstm, (5, 8), mode="train", device=device)
    # the notes: steps x 4 gates x hidden x (input + hidden), per layer
    assert report.total_macs == forward == 5 * 4 * 16 * (8 + 16) + 5 * 4 * 16 * (16 + 16)
    assert report.total_training_macs == step and not report.partial


def test_grouped_convolution_weight_gradients_cost_the_forward() -> None:
    # dW of a grouped convolution is a grouped convolution with the forward's MACs;
    # torch.utils.flop_counter counts it g times (4x here), so the count is by hand.
    model = nn.Sequential(nn.Conv2d(8, 8, 3, groups=4), nn.Conv2d(8, 8, 3, groups=4))
    report = summary(model, (8, 10, 10), mode="train")
    first = 8 * 8 * 8 * 2 * 9  # C_out * H'W' * (C_in / g) * k^2
    second = 8 * 6 * 6 * 2 * 9
    assert report.total_macs == first + second
    assert report.total_backward_macs == first + 2 * second  # no input gradient for the first


def saved_reference(model: nn.Module, x: torch.Tensor) -> int:
    """Bytes autograd keeps on a real training forward: unique storages minus parameters'."""
    params = {id(p.untyped_storage()) for p in model.parameters()}
    storages = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        s = t.untyped_storage()
        if id(s) not in params:
            storages[id(s)] = s
        return t

    model.train()
    with saved_tensors_hooks(pack, lambda t: t):
        model(x)
    return sum(s.nbytes() for s in storages.values())


@pytest.mark.parametrize(
    ("name", "options", "batches"),
    [
        ("resnet18", {}, (1, 2, 3)),
        ("mobilenet_v2", {}, (1, 3)),
        ("vit_b_16", {"image_size": 64}, (1, 2)),  # fused attention saves O(L), not the L x L
    ],
    ids=["resnet18", "mobilenet_v2", "vit_b_16"],
)
def test_saved_activations_equal_what_autograd_saves(name, options, batches) -> None:
    torch.manual_seed(0)
    model = torchvision.models.get_model(name, weights=None, **options)
    report = summary(model, (3, 64, 64), mode="train")
    for batch in batches:
        got = report.memory("sgd", batch).saved_activation_bytes
        assert got == pytest.approx(saved_reference(model, torch.rand(batch, 3, 64, 64)), rel=0.02)
    assert report.total_saved_bytes == report.memory("sgd", 1).saved_activation_bytes


def optimizer_state_bytes(model: nn.Module, optimizer: torch.optim.Optimizer) -> int:
    model(torch.rand(2, 8)).sum().backward()
    optimizer.step()
    tensors = [t for state in optimizer.state.values() for t in state.values()]
    return sum(t.numel() * t.element_size() for t in tensors if t.dim() > 0)


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("sgd", lambda p: torch.optim.SGD(p, lr=0.1)),
        ("momentum", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
        ("adam", lambda p: torch.optim.Adam(p)),
        ("amsgrad", lambda p: torch.optim.Adam(p, amsgrad=True)),
        ("adagrad", lambda p: torch.optim.Adagrad(p)),
        ("adadelta", lambda p: torch.optim.Adadelta(p)),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_memory_breakdown_against_torch_optim(name, make) -> None:
    model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 4))
    model[0].weight.requires_grad_(False)  # frozen: no gradient, no optimizer state
    trainable = [p for p in model.parameters() if p.requires_grad]
    # BatchNorm trains on batches of two or more
    report = summary(model, example_inputs=(torch.rand(2, 8),), mode="train")
    memory = report.memory(name, batch_size=32)
    assert isinstance(memory, TrainingMemory)
    assert memory.params_bytes == 4 * sum(p.numel() for p in model.parameters())
    assert memory.buffers_bytes == sum(b.numel() * b.element_size() for b in model.buffers())
    assert memory.grads_bytes == 4 * sum(p.numel() for p in trainable)
    assert memory.optimizer_state_bytes == optimizer_state_bytes(model, make(trainable))
    assert memory.total_bytes == (
        memory.params_bytes
        + memory.buffers_bytes
        + memory.grads_bytes
        + memory.optimizer_state_bytes
        + memory.saved_activation_bytes
    )


def test_memory_needs_a_training_report_a_known_optimizer_and_a_batch() -> None:
    model = nn.Linear(4, 2)
    with pytest.raises(ValueError, match="mode='train'"):
        summary(model, (4,)).memory("adam", 8)
    with pytest.raises(ValueError, match="mode='train'"):
        _ = summary(model, (4,)).total_training_macs
    report = summary(model, (4,), mode="train")
    with pytest.raises(InvalidArgument, match=r"optimizer must be one of .*did you mean adam"):
        report.memory("adamw", 8)
    with pytest.raises(InvalidArgument, match="batch_size must be a positive integer"):
        report.memory("adam", 0)
