"""cnnlab.analysis.summary against torchinfo, fvcore and ptflops on ResNet-50, same run.

Each (tool, input size) runs in its own subprocess so that its peak RSS is its own ("run MB":
the growth of the peak during the timed runs, after building the model and a 64x64 warm-up).
Every tool gets the same real CPU ResNet-50 (torchvision, random weights); the peers run a real
forward pass, summary traces on the meta device. Prints seconds, MACs each tool reports, peak RSS,
the speed ratio peer / summary at each size, and summary's peak RSS at 4096x4096 against 224.

Targets (issue 5): summary >= 10x faster than each peer at 1024x1024, and its peak RSS at
4096x4096 within 50 MB of the 224x224 run.

Usage: python benchmarks/summary_speed.py [--sizes 224 1024] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings

TOOLS = ("cnnlab", "torchinfo", "fvcore", "ptflops")


def _model():
    import torch
    import torchvision

    torch.manual_seed(0)
    return torchvision.models.resnet50().eval()


def _cnnlab(model, size: int) -> int:
    from cnnlab.analysis import summary

    return summary(model, (3, size, size)).total_macs


def _torchinfo(model, size: int) -> int:
    import torchinfo

    return torchinfo.summary(model, input_size=(1, 3, size, size), verbose=0).total_mult_adds


def _fvcore(model, size: int) -> int:
    import torch
    from fvcore.nn import FlopCountAnalysis

    fa = FlopCountAnalysis(model, torch.zeros(1, 3, size, size))
    fa.unsupported_ops_warnings(False)
    fa.uncalled_modules_warnings(False)
    return int(fa.total())


def _ptflops(model, size: int) -> int:
    from ptflops import get_model_complexity_info

    macs, _ = get_model_complexity_info(
        model,
        (3, size, size),
        as_strings=False,
        print_per_layer_stat=False,
        verbose=False,
        backend="pytorch",
    )
    return int(macs)


# tool -> run it once on the model at size x size, returning the MACs it reports
RUNNERS = {"cnnlab": _cnnlab, "torchinfo": _torchinfo, "fvcore": _fvcore, "ptflops": _ptflops}


def _run_tool(tool: str, model, size: int) -> int:
    if tool not in RUNNERS:
        raise ValueError(f"unknown tool {tool!r}; choose one of {TOOLS}")
    return RUNNERS[tool](model, size)


def worker(tool: str, size: int, repeats: int) -> None:
    """Build the model, warm the tool up at 64x64, time ``repeats`` runs at ``size``."""
    warnings.filterwarnings("ignore")
    import torch

    model = _model()
    with torch.no_grad():
        _run_tool(tool, model, 64)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            macs = _run_tool(tool, model, size)
            times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": min(times), "macs": macs, "peak_mb": peak, "base_mb": rss_before}))


def measure(tool: str, size: int, repeats: int) -> dict:
    env = dict(os.environ)
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run(
        [sys.executable, __file__, "--worker", tool, str(size), "--repeats", str(repeats)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[224, 1024])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", nargs=2, metavar=("TOOL", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], int(args.worker[1]), args.repeats)
        return

    print(f"ResNet-50 (torchvision, random weights), CPU threads: {os.cpu_count()}")
    print(
        f"{'tool':<10} {'input':>9} {'seconds':>9} {'MACs':>14} {'peak RSS MB':>12} {'run MB':>7}"
    )
    results: dict[tuple[str, int], dict] = {}
    for size in args.sizes:
        for tool in TOOLS:
            repeats = args.repeats if tool == "cnnlab" or size <= 224 else 1
            r = measure(tool, size, repeats)
            results[tool, size] = r
            print(
                f"{tool:<10} {size:>4}x{size:<4} {r['seconds']:>9.3f} {r['macs']:>14,} "
                f"{r['peak_mb']:>12.0f} {r['peak_mb'] - r['base_mb']:>7.0f}",
                flush=True,
            )
    print()
    for size in args.sizes:
        ours = results["cnnlab", size]["seconds"]
        ratios = ", ".join(
            f"{tool} {results[tool, size]['seconds'] / ours:.1f}x" for tool in TOOLS[1:]
        )
        print(f"{size}x{size}: summary is faster than {ratios} (target at 1024: >= 10x)")
    small = results["cnnlab", min(args.sizes)]
    huge = measure("cnnlab", 4096, args.repeats)
    print(
        f"summary at 4096x4096: {huge['seconds']:.3f} s, peak RSS {huge['peak_mb']:.0f} MB vs "
        f"{small['peak_mb']:.0f} MB at {min(args.sizes)}x{min(args.sizes)} "
        f"(difference {huge['peak_mb'] - small['peak_mb']:+.0f} MB; target within 50 MB)"
    )


if __name__ == "__main__":
    main()
