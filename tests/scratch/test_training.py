"""The end-to-end path: scratch SGD vs torch.optim.SGD, training, the NaN stop, the CLI."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch

from cnnlab.cli.main import main
from cnnlab.data.arrays import load_arrays
from cnnlab.scratch import CrossEntropyLoss, Parameter
from cnnlab.scratch.optim import SGD
from cnnlab.scratch.tiny_cnn import tiny_cnn
from cnnlab.scratch.training import TrainingDiverged, fit

SGD_OPTIONS = {
    "plain": {},
    "momentum": {"momentum": 0.9},
    "dampening-wd": {"momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01},
    "nesterov": {"momentum": 0.9, "nesterov": True, "weight_decay": 1e-3},
}


@pytest.mark.parametrize("options", SGD_OPTIONS.values(), ids=SGD_OPTIONS.keys())
def test_sgd_matches_torch_step_by_step(close, options) -> None:
    rng = np.random.default_rng(0)
    start = rng.standard_normal((3, 4))
    ours = Parameter(start.copy())
    theirs = torch.tensor(start, requires_grad=True)
    opt, ref = SGD([ours], lr=0.1, **options), torch.optim.SGD([theirs], lr=0.1, **options)
    for _ in range(5):
        grad = rng.standard_normal((3, 4))
        opt.zero_grad()
        ref.zero_grad()
        ours.accumulate(grad)
        theirs.grad = torch.from_numpy(grad.copy())
        opt.step()
        ref.step()
        close(ours.data, theirs.detach(), "parameter")
    if options.get("momentum"):
        close(opt.state[ours]["momentum_buffer"], ref.state[theirs]["momentum_buffer"])


@pytest.mark.slow
def test_scratch_train_reaches_97_percent_on_digits(capsys) -> None:
    assert main(["scratch-train"]) == 0  # the defaults: 15 epochs, batch 32, SGD momentum 0.9
    out = capsys.readouterr().out
    assert "iterations/epoch = ceil(N/B) = 45" in out  # ceil(1437 / 32)
    accuracy = float(re.search(r"final test accuracy (\d\.\d+)", out).group(1))
    assert accuracy >= 0.97
    losses = [float(v) for v in re.findall(r"train loss (\d+\.\d+)", out)]
    assert len(losses) == 15 and losses[-1] < losses[0] / 5


def test_fit_records_every_epoch() -> None:
    data = load_arrays("digits")
    model = tiny_cnn(width=4, rng=0)
    history = fit(
        model,
        CrossEntropyLoss(),
        SGD(model.parameters(), lr=0.05, momentum=0.9),
        (data.x_train[:200], data.y_train[:200]),
        (data.x_val, data.y_val),
        epochs=2,
        batch_size=64,
        rng=0,
    )
    assert [e.epoch for e in history.epochs] == [1, 2]
    assert history.accounting.total_iterations == 8  # ceil(200 / 64) * 2
    assert model.training  # evaluation restored the mode
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        fit(
            model,
            CrossEntropyLoss(),
            None,
            (data.x_train, data.y_train),
            (data.x_val, data.y_val),
            0,
            8,
        )


# lr 1e6 with weight decay: each step scales the weights by about 1 - 1e6 * 5e-4 = -499.
DIVERGING = {"lr": 1e6, "momentum": 0.9, "weight_decay": 5e-4}


def _first_non_finite_iteration() -> int:
    """Replay the run by hand (same seeds, same order) and find the first non-finite loss."""
    data = load_arrays("digits")
    model = tiny_cnn(width=4, rng=0)
    loss_fn, opt = CrossEntropyLoss(), SGD(model.parameters(), **DIVERGING)
    order = np.random.default_rng(0).permutation(len(data.x_train))
    with np.errstate(all="ignore"):
        for i, start in enumerate(range(0, len(order), 32), 1):
            idx = order[start : start + 32]
            opt.zero_grad()
            loss = loss_fn(model(data.x_train[idx]), data.y_train[idx])
            if not np.isfinite(loss):
                return i
            model.backward(loss_fn.backward())
            opt.step()
    raise AssertionError("the replay never diverged")


def test_fit_stops_at_the_first_non_finite_loss_without_warnings() -> None:
    data = load_arrays("digits")
    model = tiny_cnn(width=4, rng=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(TrainingDiverged) as err:
            fit(
                model,
                CrossEntropyLoss(),
                SGD(model.parameters(), **DIVERGING),
                (data.x_train, data.y_train),
                (data.x_val, data.y_val),
                epochs=2,
                batch_size=32,
                rng=0,
            )
    assert [w for w in caught if issubclass(w.category, RuntimeWarning)] == []
    expected = _first_non_finite_iteration()
    assert (err.value.epoch, err.value.iteration) == (1, expected)
    assert re.fullmatch(
        rf"loss became (nan|inf) at epoch 1, iteration {expected}/45; stopped", str(err.value)
    )


def test_cli_stops_on_nan_with_one_line(capsys) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["scratch-train", "--lr", "1e6", "--epochs", "2"]) == 1
    assert [w for w in caught if issubclass(w.category, RuntimeWarning)] == []
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1
    assert re.fullmatch(
        r"cnnlab scratch-train: error: loss became (nan|inf) at epoch 1, iteration \d+/45; "
        r"stopped \(try a lower --lr\)",
        err[0],
    )
    assert "final test accuracy" not in captured.out


def test_cli_prints_accounting_and_epochs(capsys) -> None:
    assert main(["scratch-train", "--epochs", "1", "--batch-size", "100"]) == 0
    out = capsys.readouterr().out
    assert "iterations/epoch = ceil(N/B) = 15" in out  # ceil(1437 / 100)
    assert "epoch   1" in out and "final test accuracy" in out


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--epochs", "0"], "--epochs must be a positive integer"),
        (["--batch-size", "0"], "--batch-size must be a positive integer"),
        (["--batch-size", str(10**30)], "--batch-size must be a positive integer"),
        (["--dropout", "1"], r"--dropout must be a finite number in \[0, 1\), got 1.0"),
        (["--width", "0"], "--width must be a positive integer, got 0"),
        (["--seed", "-1"], "--seed must be an integer >= 0, got -1"),
        (["--blas-threads", "0"], "--blas-threads must be a positive integer, got 0"),
        (["--lr", "inf"], "--lr must be"),
    ],
    ids=["epochs", "batch-size", "batch-size-huge", "dropout", "width", "seed", "blas", "lr-inf"],
)
def test_cli_bad_arguments_exit_2(capsys, argv, match) -> None:
    assert main(["scratch-train", *argv]) == 2
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1
    assert re.search(match, captured.err)
    assert captured.out == ""  # refused before any work
