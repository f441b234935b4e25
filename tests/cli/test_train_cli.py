"""`cnnlab train` end to end: the digits run, other dataset kinds, resume, Ctrl-C, bad input."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnlab.cli.main import main
from cnnlab.models import create_model
from cnnlab.optim import OPTIMIZERS
from cnnlab.train import load_checkpoint, save_checkpoint
from cnnlab.train.history import read_metrics_csv

FAST = ["--epochs", "1", "--batch-size", "256", "--device", "cpu"]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cnnlab", *args]


def test_help_lists_subcommands() -> None:
    out = subprocess.run(_cli("--help"), capture_output=True, text=True, check=True).stdout
    assert "train" in out
    out = subprocess.run(_cli("train", "--help"), capture_output=True, text=True, check=True)
    assert "--resume" in out.stdout and "--dataset" in out.stdout


def test_train_digits_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["train", *FAST, "--epochs", "2", "--out", str(run)]) == 0
    out = capsys.readouterr().out
    # The notes' accounting: N = 1437 training digits (80% of 1797), B = 256 -> ceil = 6.
    assert "training samples N=1437, batch size B=256, iterations/epoch = ceil(N/B) = 6" in out
    assert "total iterations = 12" in out
    n_params = sum(t.numel() for t in create_model("digits_cnn").parameters())
    assert f"({n_params:,} parameters)" in out
    assert out.count("epoch ") >= 2 and "val loss" in out
    config = json.loads((run / "config.json").read_text())
    assert config["epochs"] == 2 and config["model"] == "digits_cnn" and config["batch_size"] == 256
    assert len(read_metrics_csv(run / "metrics.csv")) == 2


def test_model_kwargs_build_the_run_and_its_reloads(tmp_path: Path) -> None:
    # timm's --model-kwargs: the options reach the constructor, are saved in config.json, and
    # eval and resume rebuild the same model (a width-8 digits_cnn does not fit width 32)
    run = tmp_path / "run"
    options = ["--model-kwargs", "width=8", "dropout=0.1"]
    assert main(["train", *FAST, *options, "--out", str(run)]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["model_kwargs"] == {"width": 8, "dropout": 0.1}
    want = create_model("digits_cnn", width=8, dropout=0.1).state_dict()
    got = load_checkpoint(run / "last.pt")["model"]
    assert {k: v.shape for k, v in got.items()} == {k: v.shape for k, v in want.items()}
    assert main(["eval", str(run), "--out", str(tmp_path / "eval")]) == 0
    assert main(["train", "--resume", str(run), "--epochs", "2"]) == 0
    assert load_checkpoint(run / "last.pt")["epoch"] == 2


def test_resume_via_cli_continues_to_total_epochs(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert main(["train", *FAST, "--out", str(run)]) == 0
    assert main(["train", "--resume", str(run), "--epochs", "2"]) == 0
    assert [r.epoch for r in read_metrics_csv(run / "metrics.csv")] == [1, 2]
    assert load_checkpoint(run / "last.pt")["epoch"] == 2


def _write_idx(path: Path, array: np.ndarray) -> None:
    # The IDX format of the MNIST files: magic (0, 0, dtype 0x08, ndim), big-endian dims, bytes.
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def test_mnist_files_the_user_has(tmp_path: Path) -> None:
    raw = tmp_path / "mnist" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 40), ("t10k", 20)):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10)
    run = tmp_path / "run"
    assert (
        main(["train", *FAST, "--dataset", f"mnist:{tmp_path / 'mnist'}", "--out", str(run)]) == 0
    )
    assert len(read_metrics_csv(run / "metrics.csv")) == 1


@pytest.mark.parametrize("layout", ["split-folders", "one-folder"])
def test_imagefolder(tmp_path: Path, layout: str) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    root = tmp_path / "images"
    splits = ["train", "val"] if layout == "split-folders" else [""]
    for split in splits:
        for cls in ("cat", "dog"):
            folder = root / split / cls
            folder.mkdir(parents=True)
            for i in range(6):
                pixels = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.png")
    run = tmp_path / "run"
    args = ["train", *FAST, "--dataset", f"imagefolder:{root}", "--image-size", "16"]
    assert main([*args, "--out", str(run)]) == 0
    state = load_checkpoint(run / "last.pt")
    assert state["model"]["fc.weight"].shape == (2, 64)  # 2 classes, RGB input
    assert state["model"]["features.0.weight"].shape[1] == 3


def _bad_runs(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    good = tmp_path / "good"
    assert main(["train", *FAST, "--out", str(good)]) == 0
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "config.json").write_text((good / "config.json").read_text())
    (corrupt / "last.pt").write_bytes(b"not a checkpoint at all")
    mismatch = tmp_path / "mismatch"
    mismatch.mkdir()
    (mismatch / "config.json").write_text((good / "config.json").read_text())
    state = load_checkpoint(good / "last.pt")
    state["model"] = {"features.0.weight": torch.zeros(3, 3)}
    state.pop("format")
    save_checkpoint(mismatch / "last.pt", state)
    (tmp_path / "file.txt").write_text("x")
    return {
        "unknown-model": (["--model", "digits_cnm"], "did you mean digits_cnn"),
        "unknown-dataset": (["--dataset", "imagenet:/x"], "unknown dataset kind 'imagenet'"),
        "missing-folder": (["--dataset", f"imagefolder:{tmp_path}/nope"], "does not exist"),
        "not-a-folder": (["--dataset", f"cifar10:{tmp_path}/file.txt"], "not a folder"),
        "no-cifar-files": (["--dataset", f"cifar10:{tmp_path}"], "no CIFAR10 files"),
        "zero-epochs": (
            ["--epochs", "0"],
            "--epochs must be a positive integer <= 2147483647, got 0",
        ),
        "neg-batch": (["--batch-size", "-4"], "--batch-size must be a positive integer"),
        "neg-lr": (["--lr", "-0.1"], "--lr must be a finite number >= 0, got -0.1"),
        "inf-lr": (["--lr", "inf"], "--lr must be a finite number >= 0, got inf"),
        "nan-lr": (["--lr", "nan"], "--lr must be a finite number >= 0, got nan"),
        "inf-weight-decay": (["--weight-decay", "inf"], "--weight-decay must be a finite number"),
        "nan-smoothing": (["--label-smoothing", "nan"], "--label-smoothing must be a finite"),
        "huge-batch": (["--batch-size", str(10**30)], "--batch-size must be a positive integer"),
        "huge-seed": (["--seed", "99999999999999999999"], "--seed must be an integer"),
        "huge-image-size": (["--image-size", str(10**30)], "--image-size must be a positive"),
        "out-is-a-file": (["--out", str(tmp_path / "file.txt")], "is a file, not a folder"),
        "out-under-a-file": (["--out", str(tmp_path / "file.txt" / "run")], "is a file"),
        "unknown-optimizer": (["--optimizer", "adamw2"], "--optimizer must be one of"),
        "non-int-epochs": (["--epochs", "two"], "invalid int value: 'two'"),
        "resume-missing": (["--resume", f"{tmp_path}/nope"], "does not exist"),
        "resume-a-file": (["--resume", str(tmp_path / "file.txt")], "is not a folder"),
        "resume-corrupt": (["--resume", str(corrupt)], "corrupt or unreadable"),
        "resume-mismatch": (["--resume", str(mismatch)], "does not fit model 'digits_cnn'"),
        "resume-with-lr": (["--resume", str(good), "--lr", "0.1"], "only --epochs"),
        "existing-run": (["--out", str(good)], "already holds a run"),
        "neg-mixup": (["--mixup", "-1"], "--mixup must be a finite number >= 0, got -1.0"),
        "nan-cutmix": (["--cutmix", "nan"], "--cutmix must be a finite number >= 0, got nan"),
        "unknown-preset": (["--augment", "flop"], "--augment must be one of"),
        "erasing-above-1": (["--random-erasing", "1.5"], "--random-erasing must be a finite"),
        "neg-pca": (["--pca-lighting", "-0.1"], "--pca-lighting must be a finite number >= 0"),
        "unknown-scheduler": (["--scheduler", "cosin"], "did you mean cosine"),
        "ema-2": (["--ema", "2"], "--ema must be a finite number in (0, 1), got 2.0"),
        "patience-0": (["--early-stopping", "0"], "--early-stopping must be a positive integer"),
        "nproc-0": (["--nproc-per-node", "0"], "--nproc-per-node must be a positive integer"),
        "sync-bn-cpu": (["--sync-bn"], "--sync-bn needs CUDA"),
        "model-kwargs-no-value": (["--model-kwargs", "width"], "expected KEY=VALUE"),
        "model-kwargs-unknown": (
            ["--model-kwargs", "widht=8"],
            "model 'digits_cnn' got unexpected option(s) ['widht']",
        ),
        "model-kwargs-classes": (
            ["--model-kwargs", "num_classes=3"],
            "--model-kwargs cannot set ['num_classes']",
        ),
        "model-kwargs-inf": (["--model-kwargs", "width=1e999"], "--model-kwargs must map"),
    }


def _run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    try:
        code = main(args)
    except SystemExit as exit_:  # argparse's own errors
        code = int(exit_.code or 0)
    return code, capsys.readouterr().err


def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = _bad_runs(tmp_path)
    monkeypatch.chdir(tmp_path)  # where a default run folder would appear
    before = sorted(p.name for p in tmp_path.iterdir())
    for name, (args, message) in cases.items():
        full = ["train", *(args if "--resume" in args else [*FAST, *args])]
        code, err = _run_main(full, capsys)
        assert code == 2, (name, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1, (name, err)
        assert lines[0].startswith("cnnlab train: error:"), (name, lines[0])
        assert message in lines[0], (name, lines[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_bad_input_in_a_real_process_has_no_traceback() -> None:
    proc = subprocess.run(_cli("train", "--model", "resnet5O"), capture_output=True, text=True)
    assert proc.returncode == 2
    assert (
        proc.stderr.strip().splitlines()
        == ["cnnlab train: error: unknown model 'resnet5O'; choose one of: digits_cnn"]
        or "did you mean" in proc.stderr
    )
    assert "Traceback" not in proc.stderr


def test_cuda_requested_without_cuda(capsys: pytest.CaptureFixture[str]) -> None:
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    assert main(["train", "--device", "cuda"]) == 2
    assert "no CUDA device is available" in capsys.readouterr().err


@pytest.mark.slow
def test_ctrl_c_saves_and_says_how_to_resume(tmp_path: Path) -> None:
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        _cli("train", "--epochs", "500", "--device", "cpu", "--out", str(run)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 120
    while not (run / "metrics.csv").exists():  # wait until training is under way
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert f"Resume with: cnnlab train --resume {run}" in err
    assert "Traceback" not in err
    state = load_checkpoint(run / "last.pt")
    done = state["epoch"]
    assert 1 <= done < 500
    # Resume to one more epoch than was finished: completes and appends to the metrics.
    assert main(["train", "--resume", str(run), "--epochs", str(done + 1)]) == 0
    assert [r.epoch for r in read_metrics_csv(run / "metrics.csv")] == list(range(1, done + 2))


@pytest.mark.slow
def test_zoo_classifier_with_resized_digits(tmp_path: Path) -> None:
    run = tmp_path / "run"
    args = ["train", *FAST, "--model", "alexnet", "--image-size", "63", "--lr", "1e-4"]
    assert main([*args, "--out", str(run)]) == 0
    state = load_checkpoint(run / "last.pt")
    assert state["model"]["classifier.6.weight"].shape == (10, 4096)
    assert state["model"]["features.0.weight"].shape[1] == 1  # grey digits: in_chans=1


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_every_optimizer_name_of_the_notes_trains(tmp_path: Path, optimizer: str) -> None:
    run = tmp_path / "run"
    args = ["train", "--epochs", "1", "--batch-size", "512", "--device", "cpu"]
    assert main([*args, "--optimizer", optimizer, "--out", str(run)]) == 0
    state = load_checkpoint(run / "last.pt")
    assert state["config"]["optimizer"] == optimizer
    assert np.isfinite(read_metrics_csv(run / "metrics.csv")[0].train_loss)
    if optimizer not in ("sgd", "minibatch"):  # plain SGD keeps no state; the others must
        assert state["optimizer"]["state"], "the optimizer took no step"


# Run in a child process: a signal sent to itself from inside the training loop (deterministic,
# unlike a timed kill from outside), or from inside build_parser while it imports torch.
_SIGTERM_AT_ITERATION_3 = """
import os, signal, sys
import cnnlab.train.trainer as T
init = T.Trainer.__init__
def patched(self, *a, **k):
    init(self, *a, **k)
    def term(trainer, epoch, step):
        if (epoch, step) == (0, 3):  # to the whole group, workers included, as Slurm does
            os.killpg(os.getpgid(0), signal.SIGTERM)
    self.on_iteration = term
T.Trainer.__init__ = patched
from cnnlab.cli.main import main
sys.exit(main(sys.argv[1:]))
"""

_SIGINT_WHILE_BUILDING_THE_PARSER = """
import os, signal, sys
# A terminal's Ctrl-C: Python ignores SIGINT when it starts with it ignored (a background job
# of a non-interactive shell, as `make test &` is), so the default handler is put back first.
signal.signal(signal.SIGINT, signal.default_int_handler)
import cnnlab.cli.main as m
build = m.build_parser
def patched():
    os.kill(os.getpid(), signal.SIGINT)
    return build()
m.build_parser = patched
sys.exit(m.main(sys.argv[1:]))
"""


def test_sigterm_saves_the_current_iteration_like_ctrl_c(tmp_path: Path) -> None:
    run = tmp_path / "run"
    args = ["train", "--epochs", "2", "--batch-size", "128", "--device", "cpu", "--workers", "2"]
    proc = subprocess.run(
        [sys.executable, "-c", _SIGTERM_AT_ITERATION_3, *args, "--out", str(run)],
        capture_output=True,
        text=True,
        start_new_session=True,  # its own process group
    )
    assert proc.returncode == 143, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"cnnlab train: interrupted (SIGTERM) at epoch 1, iteration 3/12; saved {run / 'last.pt'}"
        f". Resume with: cnnlab train --resume {run}"
    ]
    state = load_checkpoint(run / "last.pt")
    assert (state["epoch"], state["step_in_epoch"]) == (0, 3)


def test_ctrl_c_while_the_parser_imports_torch_is_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _SIGINT_WHILE_BUILDING_THE_PARSER, "train", "--epochs", "1"],
        capture_output=True,
        text=True,
    )
    assert (proc.returncode, proc.stderr) == (130, "cnnlab train: interrupted\n")


def test_unwritable_run_folder_mid_run_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import cnnlab.train.trainer

    def disk_full(path: Path, state: dict) -> None:
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(cnnlab.train.trainer, "save_checkpoint", disk_full)
    run = tmp_path / "run"
    code, err = _run_main(["train", *FAST, "--out", str(run)], capsys)
    assert code == 1
    assert err.splitlines() == [
        f"cnnlab train: error: cannot write {run / 'last.pt'}: No space left on device; "
        f"stopped after epoch 1 without saving it; no checkpoint of this run was saved"
    ]


def test_a_second_signal_stops_at_once_and_says_what_is_on_disk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ctrl-C asks for a clean stop; a SIGTERM right after it stops at once, mid-iteration.
    import cnnlab.train.trainer

    init = cnnlab.train.trainer.Trainer.__init__

    def patched(self: cnnlab.train.trainer.Trainer, *args: object, **kwargs: object) -> None:
        init(self, *args, **kwargs)

        def twice(trainer: object, epoch: int, step: int) -> None:
            if (epoch, step) == (0, 2):
                os.kill(os.getpid(), signal.SIGINT)
                os.kill(os.getpid(), signal.SIGTERM)

        self.on_iteration = twice

    monkeypatch.setattr(cnnlab.train.trainer.Trainer, "__init__", patched)
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    run = tmp_path / "run"
    code, err = _run_main(["train", *FAST, "--out", str(run)], capsys)
    assert (code, err) == (
        143,
        "cnnlab train: interrupted before saving; no checkpoint of this run was saved\n",
    )
    assert not (run / "last.pt").exists()
    assert {s: signal.getsignal(s) for s in before} == before  # the handlers were put back


_HELP_THEN_LIST_MODULES = """
import sys
from cnnlab.cli.main import main
try:
    main(["--help"])
except SystemExit:
    pass
print("heavy:", [m for m in ("torch", "torchvision", "matplotlib") if m in sys.modules])
"""


def test_help_imports_neither_torch_nor_torchvision() -> None:
    # Building the train subparser reads TrainConfig's defaults: cnnlab.train loads lazily.
    proc = subprocess.run(
        [sys.executable, "-c", _HELP_THEN_LIST_MODULES], capture_output=True, text=True, check=True
    )
    assert "--resume" not in proc.stdout and "train" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "heavy: []"


def test_mnist5k_defaults_are_its_recipe_under_the_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    import cnnlab.cli.train as cli_train

    seen = []
    monkeypatch.setattr(cli_train, "_train", lambda config, run_dir: seen.append(config) or 0)
    assert main(["train", "--dataset", "mnist5k", "--epochs", "3"]) == 0
    assert main(["train", "--dataset", "mnist5k", "--scheduler", "none", "--augment", "flip"]) == 0
    assert main(["train"]) == 0
    recipe, flagged, digits = (c.validate() for c in seen)
    assert (recipe.model, recipe.scheduler, recipe.label_smoothing) == ("lenet5", "cosine", 0.1)
    assert (recipe.weight_decay, recipe.epochs) == (5e-4, 3)
    assert (flagged.scheduler, flagged.augment, flagged.epochs) == ("none", "flip", 10)
    assert (digits.model, digits.augment, digits.scheduler) == ("digits_cnn", "none", "none")
