"""`cnnlab summary`: formats, several input sizes, --compare, object paths, errors."""

from __future__ import annotations

import csv
import io
import json

import pytest
import torch
import torchvision

from cnnlab.cli.main import main
from cnnlab.models import create_model


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["summary", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_table_for_a_registry_model(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "digits_cnn")
    assert code == 0
    params = sum(p.numel() for p in create_model("digits_cnn").parameters())
    assert "DigitsCNN at input 1x8x8" in out and f"params {params:,}" in out
    assert "features.0" in out and "Conv2d" in out and "RF size" in out


def test_json_of_an_object_path(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "torchvision.models:resnet18", "--input-size", "3", "224", "224", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    model = torchvision.models.resnet18()
    assert data["total_params"] == sum(p.numel() for p in model.parameters())
    assert round(data["total_macs"] / 1e9, 3) == 1.814  # torchvision's published GFLOPS
    assert data["layers"][0]["name"] == "conv1" and data["layers"][0]["rf_size"] == [7, 7]


def test_csv_with_depth(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "digits_cnn", "--depth", "1", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["name"] for r in rows] == ["features", "pool", "flatten", "dropout", "fc"]
    assert rows[0]["output_shape"] == "1x64x2x2" and rows[-1]["output_shape"] == "1x10"


def test_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "digits_cnn", "--format", "markdown")
    assert code == 0
    assert "| name | type | output_shape |" in out and "| `fc` | Linear | 1x10 |" in out


def test_several_input_sizes_show_growth(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "torchvision.models:vgg11",
        "--input-size", "3", "224", "224",
        "--input-size", "3", "448", "448",
        "--format", "csv",
    )  # fmt: skip
    assert code == 0
    small, big = csv.DictReader(io.StringIO(out))
    assert small["params"] == big["params"]
    # The convolutions cost 4x at twice the resolution; the classifier (behind adaptive
    # pooling to 7x7) costs the same.
    vgg = torchvision.models.vgg11()
    fc = sum(m.in_features * m.out_features for m in vgg.classifier if hasattr(m, "in_features"))
    assert int(big["macs"]) - fc == 4 * (int(small["macs"]) - fc)


def test_compare_side_by_side(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "torchvision.models:resnet18", "--compare", "torchvision.models:resnet34"
    )
    assert code == 0
    assert "assuming 3 224 224" in err  # object paths have no default size
    assert "resnet18" in out and "resnet34" in out and "resnet34 / " in out
    code, out, _ = run(
        capsys,
        "torchvision.models:resnet18",
        "--compare",
        "torchvision.models:resnet34",
        "--format",
        "csv",
    )
    a, b, ratio = csv.DictReader(io.StringIO(out))
    assert round(int(b["macs"]) / 1e9, 3) == 3.664  # torchvision's published GFLOPS
    assert ratio["macs"] == f"{int(b['macs']) / int(a['macs']):.3g}x"


def test_count_bias_and_real_device(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["digits_cnn", "--format", "json", "--device", "cpu"]
    _, plain, _ = run(capsys, *argv)
    code, biased, _ = run(capsys, *argv, "--count-bias")
    assert code == 0
    # digits_cnn's convolutions have no bias; its 64 -> 10 classifier adds 10 biases.
    assert json.loads(biased)["total_macs"] == json.loads(plain)["total_macs"] + 10


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["digits_cnm"], "did you mean digits_cnn"),
        (["digits_cnn", "--input-size", "3", "8", "8"], "'features.0' (Conv2d)"),
        (["digits_cnn", "--input-size", "1", "2", "2"], "features.13"),
        (["nosuchpkg.mod:f"], "cannot import 'nosuchpkg.mod'"),
        (["torchvision.models:resnet99"], "no attribute 'resnet99'"),
        (["torch:float32"], "(a dtype) is not a model factory"),
        (["torch.nn:Linear"], "needs arguments (in_features, out_features)"),
        (["torch.nn.functional:relu"], "needs arguments (input"),
        (["sys:exit"], "'sys' is a standard-library module"),
        (["this:s"], "'this' is a standard-library module"),
        (["builtins:eval"], "standard-library module"),
        (["torchvision.models:ResNet18_Weights"], "(a EnumType) is not a model factory"),
        (["digits_cnn", "--device", "gpu7"], "--device must be"),
        (["digits_cnn", "--input-size", "1", "1", "8", "8"], "without the batch dimension"),
        (["digits_cnn", "--train", "--optimizer", "adamw"], "--optimizer must be one of"),
        (["digits_cnn", "--train", "--batch-size", "0"], "--batch-size must be a positive"),
        (["digits_cnn", "--train", "--mode", "eval"], "drop --mode eval"),
        (["digits_cnn", "--depth", "-2"], "--depth"),
        (["digits_cnn", "--input-size", "1", "0", "8"], "positive integers"),
    ],
    ids=[
        "typo",
        "channels",
        "too-small",
        "no-module",
        "no-attr",
        "not-module",
        "needs-args",
        "function-needs-args",
        "sys-exit",
        "this",
        "builtin",
        "method-not-factory",
        "device",
        "batch-dim",
        "optimizer",
        "batch-size",
        "train-eval",
        "depth",
        "zero",
    ],
)
def test_errors_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("cnnlab summary: error: ") and words in err
    assert err.count("\n") == 1


def test_model_built_on_meta_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    from cnnlab.cli.summary import load_model

    model, default = load_model("digits_cnn")
    assert default == (1, 8, 8) and all(p.is_meta for p in model.parameters())
    model, default = load_model("torchvision.models:alexnet", device="cpu")
    assert default is None and not any(p.is_meta for p in model.parameters())
    assert isinstance(model, torch.nn.Module)


def test_stdlib_paths_are_refused_before_anything_runs(capsys: pytest.CaptureFixture[str]) -> None:
    import subprocess
    import sys

    # os:abort would kill the process if it were called: run it in a child
    child = subprocess.run(
        [sys.executable, "-m", "cnnlab", "summary", "os:abort"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert child.returncode == 2 and "standard-library module" in child.stderr
    code, out, err = run(capsys, "this:s")  # importing `this` would print the Zen of Python
    assert code == 2 and out == "" and "Zen" not in err


def test_object_paths_that_build_models(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "torch.nn:Identity", "--input-size", "3", "8", "8")  # a class
    assert code == 0 and "Identity at input 3x8x8" in out
    code, out, _ = run(  # a function in a module that uses torch
        capsys, "torchvision.models:squeezenet1_1", "--input-size", "3", "64", "64", "--depth", "0"
    )
    assert code == 0 and "SqueezeNet" in out


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message without CUDA")
def test_cuda_without_cuda(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "digits_cnn", "--device", "cuda")
    assert code == 2 and out == ""
    assert "--device 'cuda' is not available here" in err and err.count("\n") == 1


def test_train_prints_the_training_cost(capsys: pytest.CaptureFixture[str]) -> None:
    from cnnlab.analysis import summary

    code, out, _ = run(capsys, "digits_cnn", "--train", "--batch-size", "64", "--optimizer", "adam")
    assert code == 0
    report = summary(create_model("digits_cnn"), (1, 8, 8), mode="train")
    memory = report.memory("adam", 64)
    assert "Bwd MACs" in out and "training (forward + backward) MACs" in out
    assert "training step memory of digits_cnn" in out
    assert "optimizer state (adam)" in out and "saved activations (batch 64)" in out
    assert f"({memory.saved_activation_bytes / memory.total_bytes:.0%})" in out
    code, out, _ = run(capsys, "digits_cnn", "--train", "--batch-size", "8", "--format", "json")
    data = json.loads(out)
    assert data["mode"] == "train"
    assert data["total_training_macs"] == report.total_training_macs
    assert data["training_memory"]["total_bytes"] == report.memory("adam", 8).total_bytes


BRANCHY = '''
import torch
from torch import nn


class Branchy(nn.Module):
    """Control flow on a value: cannot be traced on the meta device."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3)

    def forward(self, x):
        y = self.conv(x)
        return y.relu() if bool(y.sum() > -1e9) else y
'''


def test_a_model_that_needs_values_is_rebuilt_on_the_cpu(
    capsys: pytest.CaptureFixture[str], tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "branchy_models.py").write_text(BRANCHY)
    monkeypatch.syspath_prepend(str(tmp_path))
    argv = ["branchy_models:Branchy", "--input-size", "3", "8", "8", "--format", "json"]
    code, out, _ = run(capsys, *argv)  # built on meta first, then for real
    assert code == 0
    data = json.loads(out)
    assert data["device"] == "cpu" and data["total_macs"] == 3 * 36 * 27
    assert data["notes"][0].startswith("ran on the CPU: Tensor.item()")
    code, _, err = run(capsys, *argv, "--device", "meta")  # pinned: an error naming the fix
    assert code == 2 and "cannot run on the meta device" in err and "--device cpu" in err
