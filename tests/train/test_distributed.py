"""DistributedDataParallel on 2 CPU processes (torchrun, gloo) against the single-process run."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from rich.console import Console

from cnnlab.train import (
    TrainConfig,
    Trainer,
    TrainingInterrupted,
    load_checkpoint,
    read_metrics_csv,
)
from cnnlab.train.sampler import EpochBatchSampler, ShardSampler

# lenet5 has no batch norm and no dropout: two processes can compute exactly the single
# process's step (up to the order of float32 sums). The digits at 28 x 28 keep the work small:
# 1437 = 2 * 500 + 437, so the last global batch splits unevenly (219 + 218), which the loss
# weighting must handle; the 360 validation digits split 180 + 180.
OPTIONS = {
    "dataset": "digits",
    "model": "lenet5",
    "image_size": 28,
    "batch_size": 500,
    "optimizer": "momentum",
    "lr": 0.05,
    "device": "cpu",
    "seed": 4,
}
RUN = [a for k, v in OPTIONS.items() for a in ("--" + k.replace("_", "-"), str(v))]


@pytest.mark.parametrize("world", [1, 2, 3, 4])
@pytest.mark.parametrize(
    ("n", "batch"), [(10, 4), (4000, 777), (7, 7)], ids=["10-4", "4000-777", "7-7"]
)
def test_processes_share_each_global_batch_and_validation_once(
    n: int, batch: int, world: int
) -> None:
    single = list(EpochBatchSampler(n, batch, seed=1))
    ranks = [list(EpochBatchSampler(n, batch, seed=1, rank=r, world=world)) for r in range(world)]
    assert all(len(r) == len(single) for r in ranks)
    for step, expected in enumerate(single):  # every step sees the single process's samples
        assert [i for r in ranks for i in r[step]] == expected
        sizes = [len(r[step]) for r in ranks]
        assert max(sizes) - min(sizes) <= 1
    shards = [list(ShardSampler(n, r, world)) for r in range(world)]
    assert sorted(i for s in shards for i in s) == list(range(n))  # each sample once, no padding


def _ddp(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "cnnlab", "train", "--nproc-per-node", "2", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def test_two_processes_train_the_single_process_weights(tmp_path: Path) -> None:
    # `cnnlab train --nproc-per-node 2` runs torchrun: 2 processes, gloo, one global batch of
    # 500 shared per step.
    first = _ddp(*RUN, "--epochs", "1", "--out", str(tmp_path / "ddp"))
    assert first.returncode == 0, first.stderr
    assert "2 processes (DistributedDataParallel" in first.stdout
    assert first.stdout.count("epoch   1/1") == 1  # process 0 alone prints
    config = TrainConfig(**OPTIONS, epochs=1, out=str(tmp_path / "single"))
    Trainer(config, console=Console(file=io.StringIO())).fit()
    ddp = load_checkpoint(tmp_path / "ddp" / "last.pt")
    single = load_checkpoint(tmp_path / "single" / "last.pt")
    assert ddp["world_size"] == 2 and len(ddp["rng_ranks"]) == 2
    for key, weight in single["model"].items():
        torch.testing.assert_close(ddp["model"][key], weight, rtol=1e-5, atol=1e-6, msg=key)
    a = read_metrics_csv(tmp_path / "ddp" / "metrics.csv")[0]
    b = read_metrics_csv(tmp_path / "single" / "metrics.csv")[0]
    assert a.train_loss == pytest.approx(b.train_loss, rel=1e-5)
    assert a.train_acc == b.train_acc  # counts over all 1437 samples, each once
    assert a.val_loss == pytest.approx(b.val_loss, rel=1e-5)
    assert a.val_acc == pytest.approx(b.val_acc, abs=1.5 / 360)  # 360 samples, each once


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cfg(root: Path, name: str, **kw: object) -> TrainConfig:
    base = {
        **OPTIONS,
        "epochs": 2,
        "ema": 0.9,
        "scheduler": "cosine",
        "out": str(root / name),
    }
    return TrainConfig(**{**base, **kw})


def _straight_and_stopped(rank: int, world: int, port: int, root: str) -> None:
    """One process of a 2-process group: a straight run, then one stopped mid-epoch by process
    0 alone (both must stop at the same step) and resumed."""
    torch.set_num_threads(1)
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world),
    )
    quiet = Console(file=io.StringIO())
    Trainer(_cfg(Path(root), "straight"), console=quiet).fit()

    def stop(trainer: Trainer, epoch: int, step: int) -> None:
        if rank == 0 and (epoch, step) == (1, 2):
            trainer.request_stop()

    try:
        Trainer(_cfg(Path(root), "split"), console=quiet, on_iteration=stop).fit()
    except TrainingInterrupted:
        pass
    else:
        raise AssertionError("the stop was not agreed")
    config = TrainConfig.load(Path(root) / "split" / "config.json")
    Trainer(config, resume_from=Path(root) / "split", console=quiet).fit()
    torch.distributed.destroy_process_group()


def test_resume_under_ddp_is_exact_after_a_stop_mid_epoch(tmp_path: Path) -> None:
    # The processes are forked (torch.multiprocessing) and join a gloo group through the same
    # environment variables torchrun sets.
    mp.start_processes(
        _straight_and_stopped,
        args=(2, _free_port(), str(tmp_path)),
        nprocs=2,
        start_method="fork",
    )
    stopped = load_checkpoint(tmp_path / "split" / "last.pt")
    straight = load_checkpoint(tmp_path / "straight" / "last.pt")
    for key in ("model", "train_model"):
        for name, weight in straight[key].items():
            assert torch.equal(stopped[key][name], weight), (key, name)
    rows = [
        [(r.epoch, r.values, r.lr) for r in read_metrics_csv(tmp_path / n / "metrics.csv")]
        for n in ("split", "straight")
    ]
    assert rows[0] == rows[1]
