"""One AdaBound step over ResNet-50's parameters: cnnlab.optim.AdaBound vs the authors' package.

Builds torchvision's ResNet-50 (random initialisation, nothing downloaded), gives every parameter
a random gradient, takes a few warm-up steps, then times single steps (median of ``--repeats``)
of ours and the reference ``adabound`` package in the same run, interleaved, and prints the
median and minimum times and the speed-up. On CUDA
(``--device cuda``) it times our foreach path, our single-tensor path and the reference.

    python benchmarks/optim_step.py                 # CPU, torch's default thread count
    python benchmarks/optim_step.py --threads 1     # steadier numbers on a busy machine
    python benchmarks/optim_step.py --device cuda
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable

import torch
import torchvision

from cnnlab.optim import AdaBound


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(
    steps: dict[str, Callable[[], object]], device: torch.device, repeats: int
) -> dict[str, list[float]]:
    """Seconds per ``step()`` of each candidate, interleaved (so that load from other processes
    hits all alike), after two warm-up steps each."""
    for step in steps.values():
        for _ in range(2):
            step()
    _sync(device)
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            _sync(device)
            times[name].append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--repeats", type=int, default=9, help="timed steps per optimizer")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--weight-decay", type=float, default=5e-4, help="L2 penalty (5e-4)")
    parser.add_argument("--amsbound", action="store_true", help="time AMSBound instead")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    import adabound  # the reference, a dev dependency

    torch.manual_seed(0)
    params = list(torchvision.models.resnet50().to(device).parameters())
    grads = [torch.randn_like(p) for p in params]
    count = sum(p.numel() for p in params)
    hyper = {"lr": 1e-3, "weight_decay": args.weight_decay, "amsbound": args.amsbound}

    def fresh() -> list[torch.nn.Parameter]:
        copies = [torch.nn.Parameter(p.detach().clone()) for p in params]
        for c, g in zip(copies, grads, strict=True):
            c.grad = g
        return copies

    candidates: dict[str, Callable[[], object]] = {
        "reference adabound 0.0.5": adabound.AdaBound(fresh(), **hyper).step,
        "cnnlab single-tensor": AdaBound(fresh(), foreach=False, **hyper).step,
    }
    candidates["cnnlab foreach"] = AdaBound(fresh(), foreach=True, **hyper).step

    print(
        f"AdaBound step over ResNet-50: {len(params)} tensors, {count / 1e6:.1f} M parameters, "
        f"{device}, {torch.get_num_threads()} threads, weight_decay {args.weight_decay}, "
        f"amsbound {args.amsbound}, {args.repeats} interleaved steps each"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the reference's add(Number, Tensor)
        times = time_steps(candidates, device, args.repeats)
    ref = times["reference adabound 0.0.5"]
    print(f"  {'':<26} {'median':>9}    {'min':>9}    speed-up (median, min)")
    for name, seconds in times.items():
        med, low = statistics.median(seconds), min(seconds)
        print(
            f"  {name:<26} {med * 1e3:9.2f} ms {low * 1e3:9.2f} ms   "
            f"{statistics.median(ref) / med:5.2f}x {min(ref) / low:5.2f}x"
        )


if __name__ == "__main__":
    main()
