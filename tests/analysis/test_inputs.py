"""Inputs and honest errors: example inputs, token ids, devices, sizes with or without C or a
batch dimension, ops that need real values, TorchScript."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from cnnlab.analysis import NeedsRealData, summary
from cnnlab.core.validate import InvalidArgument


class Siamese(nn.Module):
    """Two inputs by position, one by keyword (torchinfo's multi-input test models)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 2)

    def forward(
        self, a: torch.Tensor, b: torch.Tensor, scale: torch.Tensor | None = None
    ) -> torch.Tensor:
        y = self.conv(a).mean((2, 3)) - self.conv(b).mean((2, 3))
        y = self.fc(y)
        return y if scale is None else y * scale


CONV = 4 * 8 * 8 * 27  # one sample through the convolution at 8x8


@pytest.mark.parametrize(
    "given",
    [
        lambda a, b, s: (a, b),
        lambda a, b, s: ((a, b), {"scale": s}),
        lambda a, b, s: {"a": a, "b": b, "scale": s},
    ],
    ids=["tuple", "args-kwargs", "dict"],
)
@pytest.mark.parametrize("where", ["meta", "cpu"])
def test_example_inputs_positional_and_keyword(given, where: str) -> None:
    a, b = torch.rand(2, 3, 8, 8, device=where), torch.rand(2, 3, 8, 8, device=where)
    report = summary(Siamese(), example_inputs=given(a, b, torch.ones(2, 1, device=where)))
    assert report.total_macs == 2 * (2 * CONV) + 2 * 4 * 2  # batch of 2, conv twice, fc
    assert report.input_size == (3, 8, 8) and report.input_shapes[:2] == ((2, 3, 8, 8),) * 2
    assert report["conv"].macs == 4 * CONV


def test_recurrent_layer_without_batch_first_takes_example_inputs() -> None:
    # nn.LSTM(8, 16) reads (L, N, C): 5 steps x 4 gates x 16 x (8 + 16) per sample (the notes).
    lstm = nn.LSTM(8, 16)
    report = summary(lstm, example_inputs=(torch.zeros(5, 1, 8),))
    assert report.total_macs == 5 * 4 * 16 * (8 + 16) == 7680
    assert not report.partial


class Tokens(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(50, 8)
        self.fc = nn.Linear(8, 3)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.fc(self.embedding(ids).mean(1))


@pytest.mark.parametrize("device", [None, "cpu"], ids=["meta", "cpu"])
def test_models_starting_with_an_embedding_get_token_ids(device) -> None:
    detected = summary(Tokens(), (7,), device=device)  # integer ids, found from the Embedding
    given = summary(Tokens(), (7,), dtype=torch.long, device=device)
    assert detected.total_macs == given.total_macs == 8 * 3
    assert detected["embedding"].output_shape == (1, 7, 8)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
def test_torchscript_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match=r"TorchScript.*nn.Module it was scripted"):
        summary(torch.jit.script(nn.Linear(4, 3)), (4,))


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
def test_scripted_submodules_inside_an_eager_model_are_counted() -> None:
    model = nn.Sequential(torch.jit.script(nn.Linear(4, 3)), nn.ReLU(), nn.Linear(3, 2))
    report = summary(model, (4,))
    assert report.total_macs == 4 * 3 + 3 * 2 and report.total_params == 15 + 8
    assert model[0].weight.device.type == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message without CUDA")
def test_cuda_without_cuda_is_a_clear_error() -> None:
    with pytest.raises(InvalidArgument, match=r"device 'cuda' is not available here"):
        summary(nn.Conv2d(3, 3, 3), (3, 8, 8), device="cuda")


@pytest.mark.parametrize(
    ("size", "words"),
    [
        ((1, 3, 32, 32), r"4 values .* C H W \(3 values\).*without the batch.*try \(3, 32, 32\)"),
        ((3, 32), r"2 values .* C H W \(3 values\) per sample"),
    ],
    ids=["torchinfo-batch", "no-channels"],
)
def test_input_sizes_of_the_wrong_rank_say_what_is_expected(size, words) -> None:
    with torch.device("meta"):
        model = torchvision.models.resnet18()
    with pytest.raises(InvalidArgument, match=words) as info:
        summary(model, size)
    assert info.value.argument == "input_size"
    assert "input channels" not in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"input_size": 224}, "sequence of positive integers"),
        ({"input_size": (3, 0, 4)}, "positive integers"),
        ({}, "input_size must be given"),
        ({"input_size": (3, 8, 8), "example_inputs": torch.zeros(1, 3, 8, 8)}, "not both"),
        ({"example_inputs": "x"}, "example_inputs must be"),
        ({"input_size": (3, 8, 8), "depth": -1}, "depth"),
        ({"input_size": (3, 8, 8), "mode": "test"}, "mode"),
        ({"input_size": (3, 8, 8), "device": "gpu7"}, "device"),
        ({"input_size": (3, 8, 8), "dtype": "float"}, "dtype"),
    ],
    ids=["int-size", "zero", "none", "both", "bad-examples", "depth", "mode", "device", "dtype"],
)
def test_bad_arguments_name_the_argument(kwargs: dict, words: str) -> None:
    with pytest.raises(InvalidArgument, match=words):
        summary(nn.Conv2d(3, 3, 3), **kwargs)


class Branchy(nn.Module):
    """Control flow on a value (fvcore's TraceWarningNet): meta tensors have none."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return y.relu() if bool(y.sum() > -1e9) else y


class Distribution(nn.Module):
    """Returns a torch.distributions object, whose argument checks read values."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(10, 5)

    def forward(self, x: torch.Tensor) -> torch.distributions.Categorical:
        return torch.distributions.Categorical(logits=self.fc(x))


@pytest.mark.parametrize(
    ("factory", "size", "macs"),
    [(Branchy, (3, 8, 8), 3 * 36 * 27), (Distribution, (10,), 50)],
    ids=["item", "distribution"],
)
def test_ops_that_need_values_rerun_on_the_cpu_and_say_so(factory, size, macs) -> None:
    report = summary(factory(), size)
    assert report.total_macs == macs and report.device == "cpu"
    assert report.notes[0].startswith("ran on the CPU: Tensor.item()")
    with pytest.raises(NeedsRealData, match=r"Tensor.item\(\).*device='cpu'") as info:
        summary(factory(), size, device="meta")
    assert "does not fit" not in str(info.value)  # the input size is fine: say so
    with torch.device("meta"):
        no_values = factory()
    with pytest.raises(NeedsRealData, match="build it on the CPU"):
        summary(no_values, size)


def test_real_device_needs_real_parameters() -> None:
    with torch.device("meta"):
        model = nn.Conv2d(3, 3, 3)
    with pytest.raises(ValueError, match="meta-device parameters"):
        summary(model, (3, 8, 8), device="cpu")


def test_a_real_run_reports_what_the_meta_trace_does() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Upsample(scale_factor=2), nn.ReLU())
    meta, cpu = summary(model, (3, 8, 8)), summary(model, (3, 8, 8), device="cpu")
    assert meta.device == "meta" and cpu.device == "cpu"
    assert [(r.name, r.macs, r.flops, r.receptive_field) for r in meta.rows] == [
        (r.name, r.macs, r.flops, r.receptive_field) for r in cpu.rows
    ]
