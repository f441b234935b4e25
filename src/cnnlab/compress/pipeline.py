"""Compress a trained run with one or more methods and measure every result the same way."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch import nn

from cnnlab.analysis import summary
from cnnlab.compress.measure import accuracy, latency_ms, parameter_count, saved_bytes
from cnnlab.compress.methods import METHODS, Compressed, Options
from cnnlab.compress.plots import plot_comparison
from cnnlab.compress.report import CompressionReport, Row
from cnnlab.compress.run import TrainedRun, find_checkpoint, load_run
from cnnlab.compress.storage import save_compressed
from cnnlab.core.files import atomic_write_text, check_output_dir, create_unique_dir
from cnnlab.core.validate import non_negative_int, number, one_of, positive_int

#: The batch sizes latency is measured at.
LATENCY_BATCHES = (1, 32)


def check_methods(methods: Sequence[str], amount: float | None) -> list[str]:
    """Validate method names and ``amount`` against them; return the methods.

    Raises:
        ValueError: unknown method (close matches listed), no method, an amount outside
            [0, 1), or an amount for methods that take none.
    """
    if not methods:
        raise ValueError(f"give at least one method: {sorted(METHODS)}")
    for m in methods:
        one_of("method", m, METHODS)
    if amount is not None:
        number("amount", amount, minimum=0, maximum=1, exclusive_maximum=True)
        if all(METHODS[m].default_amount is None for m in methods):
            takers = [n for n, spec in METHODS.items() if spec.default_amount is not None]
            raise ValueError(f"amount applies to {', '.join(takers)}, not to {', '.join(methods)}")
    return list(methods)


def _example(run: TrainedRun, batch: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(batch)
    return torch.randn(batch, *run.input_size, generator=generator)


def _row(
    run: TrainedRun,
    name: str,
    model: nn.Module,
    timed: Callable[[torch.Tensor], object],
    *,
    params: int,
    size: int,
    float_twin: nn.Module,
    repeats: int,
    base_acc: float | None,
    detail: str = "",
    path: str = "",
) -> Row:
    latencies = []
    for batch in LATENCY_BATCHES:
        example = _example(run, batch)
        latencies.append(latency_ms(timed(example), example, repeats=repeats))
    acc = accuracy(model, run.data.val)
    macs = summary(float_twin, run.input_size).total_macs
    delta = 0.0 if base_acc is None else 100.0 * (acc - base_acc)
    return Row(name, params, size / 1e6, macs, *latencies, acc, delta, detail, path)


def compress_run(
    run_dir: str | os.PathLike[str],
    methods: Sequence[str],
    *,
    amount: float | None = None,
    out: str | os.PathLike[str] | None = None,
    finetune_epochs: int = 3,
    finetune_lr: float | None = None,
    calibration_images: int = 256,
    repeats: int = 10,
    seed: int = 0,
    log: Callable[[str], None] = lambda _: None,
) -> tuple[CompressionReport, Path]:
    """Compress the model of a ``cnnlab train`` run with each method and measure the results.

    Writes ``METHOD.pt`` per method (:func:`cnnlab.compress.load_compressed` reads it back),
    ``report.json``, ``report.md`` and, for more than one method, ``comparison.png``.

    Args:
        run_dir: a ``cnnlab train`` run directory (``config.json`` and a checkpoint).
        methods: names from :data:`cnnlab.compress.METHODS`.
        amount: share removed by pruning / dropped singular values (None: 0.5).
        out: output folder (checked before any work); default ``RUN_DIR/compressed[-N]``.
        finetune_epochs: fine-tuning epochs after pruning (with the run's optimizer).
        finetune_lr: their learning rate (None: the run's).
        calibration_images: training images that calibrate static int8 quantisation.
        repeats: timed runs per latency (the median is reported).
        seed: fine-tuning seed.
        log: called with one line per step.

    Returns:
        The report and the output folder.
    """
    methods = check_methods(methods, amount)
    finetune_epochs = non_negative_int("finetune_epochs", finetune_epochs)
    if finetune_lr is not None:
        finetune_lr = number("finetune_lr", finetune_lr, minimum=0)
    calibration_images = positive_int("calibration_images", calibration_images)
    repeats = positive_int("repeats", repeats)
    folder, _ = find_checkpoint(run_dir)
    if out is not None:
        out_dir = check_output_dir("out", out)
        out_dir.mkdir(parents=True, exist_ok=True)
    else:
        out_dir = create_unique_dir(folder / "compressed")

    run = load_run(folder)
    log(f"loaded {run.config.model} from {run.checkpoint} ({run.data.describe()})")
    report = CompressionReport(
        str(run.run_dir),
        run.config.model,
        run.data.name,
        list(run.input_size),
        torch.get_num_threads(),
        torch.__version__,
    )
    original = _row(
        run,
        "original",
        run.model,
        lambda _: run.model,
        params=parameter_count(run.model),
        size=saved_bytes({"state_dict": run.model.state_dict()}),
        float_twin=run.model,
        repeats=repeats,
        base_acc=None,
        detail=f"float32, {run.checkpoint.name}",
    )
    report.rows.append(original)
    for method in methods:
        spec = METHODS[method]
        share = amount if amount is not None else spec.default_amount
        options = Options(share, finetune_epochs, finetune_lr, calibration_images, seed)
        log(f"{method}: {spec.help}")
        compressed: Compressed = spec.compress(run, options)
        name = method if spec.default_amount is None else f"{method} {share:.0%}"
        path = out_dir / f"{method}.pt"
        size = save_compressed(path, run, method, compressed)
        report.rows.append(
            _row(
                run,
                name,
                compressed.model,
                compressed.model_for,
                params=compressed.params,
                size=size,
                float_twin=compressed.float_twin,
                repeats=repeats,
                base_acc=original.val_acc,
                detail=compressed.detail,
                path=str(path),
            )
        )
    atomic_write_text(out_dir / "report.json", report.to_json() + "\n")
    atomic_write_text(out_dir / "report.md", f"{report.describe()}\n\n{report.to_markdown()}\n")
    if len(methods) > 1:
        plot_comparison(report, out_dir / "comparison.png")
    return report, out_dir
