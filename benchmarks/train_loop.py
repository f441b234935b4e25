"""Training throughput of cnnlab's ``Trainer`` against a minimal plain PyTorch loop, same run.

Both train the same model on the same in-memory data with the same batch size and optimizer
(Adam on the CPU, SGD with momentum on CUDA): the plain loop is the one of PyTorch's tutorials
(``DataLoader(shuffle=True)``, ``zero_grad``/forward/``backward``/``step``, nothing read back).
The Trainer does what it always does on top (device-side loss and accuracy sums read twice a
second, the per-iteration schedule, the progress bar when on a terminal). Images per second are
timed between consecutive optimizer steps within an epoch (validation, checkpoints and plots
between epochs are left out of both), rounds alternate between the two, and the best round of
each counts (the machine may be shared).

- CPU: ``lenet5`` on the 4,000 mnist5k training digits (28 x 28), batch 64.
- CUDA, when a GPU is present: ``resnet50`` on random 224 x 224 images kept in pinned memory,
  batch 64, float16 autocast with a GradScaler, channels-last, as ``--amp --channels-last``.

Run: ``python benchmarks/train_loop.py [--rounds R] [--epochs E]``. Target: ratio >= 0.95.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from rich.console import Console
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from cnnlab.data import DatasetBundle, load_dataset
from cnnlab.models import create_model
from cnnlab.optim import create_optimizer
from cnnlab.train import TrainConfig, Trainer


@dataclass
class Setup:
    """One comparison: the data, the model and the options both loops use."""

    name: str
    data: DatasetBundle
    model: str
    optimizer: str
    lr: float
    batch_size: int
    device: torch.device
    amp: bool = False
    channels_last: bool = False


def _steady_ips(stamps: list[list[float]], batch: int) -> float:
    """Images per second over the intervals between consecutive steps of each epoch (the first
    interval of an epoch, where the loader starts, is left out)."""
    seconds = sum(s[-1] - s[1] for s in stamps if len(s) > 2)
    steps = sum(len(s) - 2 for s in stamps if len(s) > 2)
    return steps * batch / seconds


def trainer_ips(setup: Setup, epochs: int, root: Path) -> float:
    cfg = TrainConfig(
        model=setup.model,
        dataset=setup.name,
        epochs=epochs,
        batch_size=setup.batch_size,
        optimizer=setup.optimizer,
        lr=setup.lr,
        device=setup.device.type,
        amp=setup.amp,
        channels_last=setup.channels_last,
        out=tempfile.mkdtemp(dir=root),
    )
    stamps: list[list[float]] = []

    def stamp(trainer: Trainer, epoch: int, step: int) -> None:
        if setup.device.type == "cuda":
            torch.cuda.synchronize()
        if step == 1:
            stamps.append([])
        stamps[-1].append(time.perf_counter())

    Trainer(cfg, data=setup.data, console=Console(file=io.StringIO()), on_iteration=stamp).fit()
    return _steady_ips(stamps, setup.batch_size)


def plain_ips(setup: Setup, epochs: int) -> float:
    device = setup.device
    torch.manual_seed(0)
    data = setup.data
    model = create_model(setup.model, num_classes=data.num_classes, in_chans=data.in_chans)
    model = model.to(device)
    if setup.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = create_optimizer(setup.optimizer, model.parameters(), lr=setup.lr)
    criterion = nn.CrossEntropyLoss()
    scaler = torch.amp.GradScaler("cuda", enabled=setup.amp and device.type == "cuda")
    dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    loader = DataLoader(
        data.train, batch_size=setup.batch_size, shuffle=True, pin_memory=device.type == "cuda"
    )
    stamps: list[list[float]] = []
    model.train()
    for _ in range(epochs):
        stamps.append([])
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            if setup.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, dtype=dtype, enabled=setup.amp):
                loss = criterion(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            if device.type == "cuda":
                torch.cuda.synchronize()
            stamps[-1].append(time.perf_counter())
    return _steady_ips(stamps, setup.batch_size)


def cpu_setup() -> Setup:
    return Setup(
        "mnist5k", load_dataset("mnist5k"), "lenet5", "adam", 2e-3, 64, torch.device("cpu")
    )


def cuda_setup(n: int = 1024) -> Setup:
    g = torch.Generator().manual_seed(0)
    images = torch.randn(n, 3, 224, 224, generator=g)
    labels = torch.randint(0, 100, (n,), generator=g)
    data = DatasetBundle(
        name="random224",
        train=TensorDataset(images, labels),
        val=TensorDataset(images[:256], labels[:256]),
        num_classes=100,
        in_chans=3,
        image_size=(224, 224),
        classes=[str(i) for i in range(100)],
    )
    return Setup(
        "random224",
        data,
        "resnet50",
        "momentum",
        0.01,
        64,
        torch.device("cuda"),
        amp=True,
        channels_last=True,
    )


def compare(setup: Setup, rounds: int, epochs: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        trainer_ips(setup, 1, Path(tmp))  # warm-up: caches, allocator, cuDNN autotuning
        plain_ips(setup, 1)
        pairs = [
            (trainer_ips(setup, epochs, Path(tmp)), plain_ips(setup, epochs)) for _ in range(rounds)
        ]
    ours, plain = max(p[0] for p in pairs), max(p[1] for p in pairs)
    flags = " AMP channels-last" if setup.amp else ""
    print(
        f"{setup.device.type:<5} {setup.model} on {setup.name}, batch {setup.batch_size}"
        f"{flags}: Trainer {ours:9.1f} img/s   plain loop {plain:9.1f} img/s   "
        f"ratio {ours / plain:5.3f}"
    )
    return ours / plain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    compare(cpu_setup(), args.rounds, args.epochs)
    if torch.cuda.is_available():
        print(f"GPU: {torch.cuda.get_device_name()}")
        compare(cuda_setup(), args.rounds, args.epochs)
    else:
        print("no CUDA device: the resnet50 AMP channels-last comparison was skipped")


if __name__ == "__main__":
    main()
