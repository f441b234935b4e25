"""summary(): functional ops, tied weights, partial reports, lookups, shape errors, exports."""

from __future__ import annotations

import copy
import resource

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from cnnlab.analysis import ReceptiveField, UnknownLayerError, summary


class Functional(nn.Module):
    """Functional code between modules: what module hooks alone would miss."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Conv2d(3, 4, 1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.a(x))
        z = torch.cat([y, self.b(x)], 1)
        z = z + F.interpolate(F.avg_pool2d(z, 2), scale_factor=2.0, mode="nearest")
        return self.fc(torch.flatten(z.mean((2, 3)), 1))


def test_functional_ops_are_rows_in_execution_order() -> None:
    report = summary(Functional(), (3, 8, 8))
    assert [r.type for r in report.rows] == [
        "Conv2d",
        "relu",
        "Conv2d",
        "cat",
        "avg_pool2d",
        "interpolate",
        "add",
        "mean",
        "flatten",
        "Linear",
    ]
    assert [r.name for r in report.rows][:4] == ["a", "relu", "b", "cat"]
    assert report["cat"].output_shape == (1, 8, 8, 8)
    assert report["add"].flops == 8 * 8 * 8
    assert report["avg_pool2d"].flops == 4 * 8 * 4 * 4
    assert report.total_macs == 4 * 64 * 27 + 4 * 64 * 3 + 8 * 5
    assert report.field_of("mean", (0, 0)).clipped == ((0, 7), (0, 7))  # the whole input


def test_tied_parameters_count_once() -> None:
    class Tied(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc = nn.Linear(6, 6, bias=False)
            self.dec = nn.Linear(6, 6, bias=False)
            self.dec.weight = self.enc.weight

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.dec(self.enc(x))

    model = Tied()
    report = summary(model, (6,))
    assert report.total_params == 36 == sum(p.numel() for p in model.parameters())
    assert [r.params for r in report.rows] == [36, 0]
    assert report.receptive_field is None  # no spatial axes


def test_ops_without_formula_make_the_report_partial_and_are_named() -> None:
    class Spectral(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = torch.fft.rfft2(self.conv(x)).abs()  # an FFT: no cost rule
            theta = torch.eye(2, 3, device=x.device).expand(1, 2, 3)
            grid = F.affine_grid(theta, [1, 2, 4, 4], align_corners=False)
            return F.grid_sample(y[..., :4], grid, align_corners=False)

    report = summary(Spectral(), (1, 6, 6))
    assert report.partial
    assert report.uncounted == {"_fft_r2c": 1, "grid_sampler_2d": 1}
    assert report["fft_rfft2"].uncounted == {"_fft_r2c": 1}
    text = str(report)
    assert "PARTIAL" in text and "_fft_r2c x1" in text and "grid_sampler_2d" in text
    assert "_fft_r2c" in report.to_markdown() and report.to_dict()["partial"] is True
    assert report.total_macs == 2 * 16 * 9 + 4 * 4 * 2 * 3  # conv + the grid's base @ theta^T
    assert not summary(nn.Conv2d(1, 2, 3), (1, 6, 6)).partial


@pytest.mark.parametrize(
    ("factory", "size", "layer", "words"),
    [
        (torchvision.models.alexnet, (3, 30, 30), "'features.5' (MaxPool2d)", "too small"),
        (
            torchvision.models.vgg11,
            (1, 64, 64),
            "'features.0' (Conv2d)",
            "expects 3 input channels",
        ),
        (lambda: nn.Sequential(nn.Flatten(), nn.Linear(100, 3)), (3, 5, 5), "'1' (Linear)", "75"),
        (torchvision.models.vgg11, (3, 16, 16), "'features.20' (MaxPool2d)", "(1, 512, 1, 1)"),
    ],
    ids=["alexnet-too-small", "vgg-channels", "linear-features", "vgg-too-small"],
)
def test_bad_input_size_names_the_breaking_layer(factory, size, layer, words) -> None:
    with torch.device("meta"):
        model = factory()
    with pytest.raises(ValueError) as info:
        summary(model, size)
    message = str(info.value)
    assert layer in message and words in message and str(size) in message


def test_resnet152_at_4096_on_meta_uses_no_activation_memory() -> None:
    with torch.device("meta"):
        model = torchvision.models.resnet152()
    small = summary(model, (3, 224, 224))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    big = summary(model, (3, 4096, 4096))
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak) / 1024
    assert big.total_activation_bytes > 30 * 2**30  # a real pass would need tens of GiB
    assert grown_mib < 200
    assert big.total_params == small.total_params
    assert big.total_macs > 300 * small.total_macs


def test_depth_folds_rows_into_modules() -> None:
    with torch.device("meta"):
        model = torchvision.models.resnet18()
    report = summary(model, (3, 224, 224), depth=1)
    names = [r.name for r in report.layers]
    assert names == [
        "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4",
        "avgpool", "flatten", "fc",
    ]  # fmt: skip
    assert sum(r.macs for r in report.layers) == report.total_macs
    assert report["layer2"].params == sum(p.numel() for p in model.layer2.parameters())
    assert report["layer2"].output_shape == (1, 128, 28, 28)
    assert report["layer2"].rf_size == report["layer2.1.relu"].rf_size
    assert len(summary(model, (3, 224, 224), depth=0).layers) == 1
    assert report[""].macs == report.total_macs


def test_lookup_errors_and_field_of() -> None:
    with torch.device("meta"):
        model = torchvision.models.vgg11()
    report = summary(model, (3, 64, 64))
    with pytest.raises(UnknownLayerError, match="featurs"):
        report["featurs.0"]
    with pytest.raises(ValueError, match="did you mean"):
        report["features.00"]
    box = report.field_of("features.0", (0, 5))
    assert (box.lo, box.hi) == ((-1, 4), (1, 6))
    assert box.clipped == ((0, 1), (4, 6))
    assert box.slices == (slice(0, 2), slice(4, 7))
    with pytest.raises(ValueError, match="outside"):
        report.field_of("features.0", (64, 0))
    with pytest.raises(ValueError, match="2 integers"):
        report.field_of("features.0", (1,))


def test_printing_and_exports() -> None:
    import csv
    import io
    import json

    report = summary(Functional(), (3, 8, 8))
    text = str(report)
    assert "Functional" in text and "interpolate" in text and "receptive field" in text
    data = json.loads(report.to_json())
    assert data["total_macs"] == report.total_macs
    assert [layer["name"] for layer in data["layers"]] == [r.name for r in report.rows]
    rows = list(csv.DictReader(io.StringIO(report.to_csv())))
    assert len(rows) == len(report.rows) and rows[0]["rf_size"] == "3x3"
    assert sum(int(r["macs"]) for r in rows) == report.total_macs
    md = report.to_markdown().splitlines()
    assert md[2].startswith("| name | type |") and len([m for m in md if m.startswith("| `")]) == 10
    assert "Report(model='Functional'" in repr(report)


def test_activation_bytes_and_dtype() -> None:
    model = nn.Conv2d(3, 4, 3, padding=1).double()
    report = summary(model, (3, 5, 5))
    assert report.rows[0].activation_bytes == 4 * 5 * 5 * 8


def test_shared_module_called_twice() -> None:
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 3, padding=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(self.conv(x))

    model = Twice()
    report = summary(copy.deepcopy(model), (2, 6, 6))
    assert [r.params for r in report.rows] == [38, 0]
    assert report["conv"].macs == 2 * 2 * 36 * 18
    assert report.receptive_field.size == (5, 5)


def test_one_dimensional_signals() -> None:
    model = nn.Sequential(nn.Conv1d(2, 4, 5, stride=2), nn.ReLU(), nn.MaxPool1d(2))
    report = summary(model, (2, 50))
    # conv k=5, s=2: r=5, j=2, centre 2; pool k=2, s=2: r = 5 + 1*2, j = 4, centre 2 + 1/2*2
    assert report.receptive_field == ReceptiveField((7,), (4,), (3,))
    assert report.field_of("2", (3,)).clipped == ((12, 18),)
    assert report.total_macs == 4 * 23 * 2 * 5
