"""One AdaBound step over ResNet-50's parameters: cnnlab.optim.AdaBound vs the authors' package,
and vs the memory-bandwidth floor measured in the same run.

Builds torchvision's ResNet-50 (random initialisation, nothing downloaded), gives every parameter
a random gradient, takes two warm-up steps (the first one of the fused path compiles it), then
times single steps (median and minimum of ``--repeats``), interleaved so that load from other
processes hits all alike, of:

- the reference ``adabound`` 0.0.5 package;
- ``cnnlab`` with its defaults (on CPU: the kernel ``torch.compile`` makes, if it can);
- ``cnnlab`` eager (``fused=False``: the ``torch._foreach_*`` ops);
- the floor: a step must read theta, g, m, v and write theta, m, v, i.e. stream seven
  25.6M-element float32 tensors. ``a.add_(b)`` over tensors of 7/3 x 25.6M elements streams
  exactly that many bytes (reads a and b, writes a), in one fused pass.

It prints each time, the speed-up over the reference and the ratio to the floor, which kernel
ran, and the load average of the machine before and after.

    python benchmarks/optim_step.py                 # CPU, torch's default thread count
    python benchmarks/optim_step.py --threads 1     # steadier numbers on a busy machine
    python benchmarks/optim_step.py --device cuda
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from collections.abc import Callable

import torch
import torchvision

import cnnlab.optim.adabound as adabound_module
from cnnlab.optim import AdaBound


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(
    steps: dict[str, Callable[[], object]], device: torch.device, repeats: int
) -> dict[str, list[float]]:
    """Seconds per call of each candidate, interleaved, after two warm-up calls each."""
    for name, step in steps.items():
        start = time.perf_counter()
        for _ in range(2):
            step()
        _sync(device)
        print(f"  warm-up {name}: {time.perf_counter() - start:.1f} s", flush=True)
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            _sync(device)
            times[name].append(time.perf_counter() - start)
    return times


def floor_step(count: int, device: torch.device) -> Callable[[], object]:
    """``a.add_(b)`` streaming as many bytes as one step must (7 x ``count`` float32)."""
    n = 7 * count // 3
    a = torch.randn(n, device=device)
    b = torch.randn(n, device=device)
    return lambda: a.add_(b, alpha=1e-9)


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


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

    print(f"before: {_load()}")
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

    reference = "reference adabound 0.0.5"
    candidates: dict[str, Callable[[], object]] = {
        reference: adabound.AdaBound(fresh(), **hyper).step,
        "cnnlab (defaults)": AdaBound(fresh(), **hyper).step,
        "cnnlab eager (fused=False)": AdaBound(fresh(), fused=False, **hyper).step,
    }
    if device.type == "cuda":
        candidates["cnnlab fused=True"] = AdaBound(fresh(), fused=True, **hyper).step
    candidates["floor: stream 7 tensors"] = floor_step(count, device)

    print(
        f"AdaBound step over ResNet-50: {len(params)} tensors, {count / 1e6:.1f} M parameters, "
        f"{device}, {torch.get_num_threads()} threads, weight_decay {args.weight_decay}, "
        f"amsbound {args.amsbound}, {args.repeats} interleaved steps each"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the reference's add(Number, Tensor)
        times = time_steps(candidates, device, args.repeats)
    kernel = "eager (compiling failed)" if adabound_module._compile_failed else "compiled"
    print(f"cnnlab's fused path: {kernel}")
    ref = times[reference]
    floor = times["floor: stream 7 tensors"]
    print(f"  {'':<28} {'median':>9}    {'min':>9}    vs reference (median, min)   / floor")
    for name, seconds in times.items():
        med, low = statistics.median(seconds), min(seconds)
        print(
            f"  {name:<28} {med * 1e3:9.2f} ms {low * 1e3:9.2f} ms   "
            f"{statistics.median(ref) / med:5.2f}x {min(ref) / low:5.2f}x"
            f"              {med / statistics.median(floor):5.2f}x"
        )
    print(f"after: {_load()}")


if __name__ == "__main__":
    main()
