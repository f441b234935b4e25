"""The end-to-end path: scratch SGD vs torch.optim.SGD, the digits split, training, the CLI."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from cnnlab.cli.main import main
from cnnlab.scratch import CrossEntropyLoss, Parameter
from cnnlab.scratch.digits import load_digits_arrays
from cnnlab.scratch.digits_cnn import digits_cnn
from cnnlab.scratch.optim import SGD
from cnnlab.scratch.training import fit

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


def test_digits_split_matches_the_torch_tier() -> None:
    from cnnlab.data.datasets import load_dataset

    ours = load_digits_arrays()
    bundle = load_dataset("digits")
    x_val, y_val = bundle.val.tensors
    np.testing.assert_array_equal(ours.y_test, y_val.numpy())
    np.testing.assert_allclose(ours.x_test, x_val.numpy(), rtol=1e-5, atol=1e-5)  # float32 there
    assert len(ours.x_train) == len(bundle.train)


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
    data = load_digits_arrays()
    model = digits_cnn(width=4, rng=0)
    history = fit(
        model,
        CrossEntropyLoss(),
        SGD(model.parameters(), lr=0.05, momentum=0.9),
        (data.x_train[:200], data.y_train[:200]),
        (data.x_test, data.y_test),
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
            (data.x_test, data.y_test),
            0,
            8,
        )


def test_cli_prints_accounting_and_epochs(capsys) -> None:
    assert main(["scratch-train", "--epochs", "1", "--batch-size", "100"]) == 0
    out = capsys.readouterr().out
    assert "iterations/epoch = ceil(N/B) = 15" in out  # ceil(1437 / 100)
    assert "epoch   1" in out and "final test accuracy" in out


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--epochs", "0"], "--epochs must be a positive integer"),
        (["--batch-size", "0"], "batch_size must be a positive integer"),
        (["--dropout", "1"], r"in \[0, 1\)"),
    ],
    ids=["epochs", "batch-size", "dropout"],
)
def test_cli_bad_arguments_exit_2(capsys, argv, match) -> None:
    assert main(["scratch-train", *argv]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert re.search(match, err)
