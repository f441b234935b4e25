"""cnnlab.analysis.summary against torchinfo, fvcore and ptflops on ResNet-50 and EfficientNet-B0.

Each (model, tool, input size) runs in its own subprocess so that its peak RSS is its own ("run
MB": the growth of the peak during the timed runs, after building the model and a 64x64
warm-up). Every tool gets the same real CPU model (torchvision, random weights); the peers run a
real forward pass, summary traces a copy on the meta device. Prints seconds (best of the
repeats), the MACs each tool reports, peak RSS, the speed ratio peer / summary at each size, and
summary's peak RSS at 4096x4096 against the smallest size.

Targets (issues 5 and 18): summary >= 10x faster than each peer at 1024x1024 on both models, and
its peak RSS at 4096x4096 within 50 MB of the smallest size's run.

Usage: python benchmarks/summary_speed.py [--models resnet50 efficientnet_b0] [--sizes 224 1024]
[--repeats 3]
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


MODELS = ("resnet50", "efficientnet_b0")


def _model(name: str):
    import torch
    import torchvision

    torch.manual_seed(0)
    return torchvision.models.get_model(name, weights=None).eval()


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


def worker(model_name: str, tool: str, size: int, repeats: int) -> None:
    """Build the model, warm the tool up at 64x64, time ``repeats`` runs at ``size``."""
    warnings.filterwarnings("ignore")
    import torch

    model = _model(model_name)
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


def measure(model: str, tool: str, size: int, repeats: int) -> dict:
    env = dict(os.environ)
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    command = [sys.executable, __file__, "--worker", model, tool, str(size)]
    out = subprocess.run(
        [*command, "--repeats", str(repeats)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--sizes", type=int, nargs="+", default=[224, 1024])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--worker", nargs=3, metavar=("MODEL", "TOOL", "SIZE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], int(args.worker[2]), args.repeats)
        return

    load = os.getloadavg()[0]
    print(f"CPU threads: {os.cpu_count()}, load average at start: {load:.1f}")
    for model in args.models:
        print(f"\n{model} (torchvision, random weights)")
        print(
            f"{'tool':<10} {'input':>9} {'seconds':>9} {'MACs':>14} {'peak RSS MB':>12} "
            f"{'run MB':>7}"
        )
        results: dict[tuple[str, int], dict] = {}
        for size in args.sizes:
            for tool in TOOLS:
                r = measure(model, tool, size, args.repeats)
                results[tool, size] = r
                print(
                    f"{tool:<10} {size:>4}x{size:<4} {r['seconds']:>9.3f} {r['macs']:>14,} "
                    f"{r['peak_mb']:>12.0f} {r['peak_mb'] - r['base_mb']:>7.0f}",
                    flush=True,
                )
        for size in args.sizes:
            ours = results["cnnlab", size]["seconds"]
            ratios = ", ".join(
                f"{tool} {results[tool, size]['seconds'] / ours:.1f}x" for tool in TOOLS[1:]
            )
            print(
                f"{model} {size}x{size}: summary is faster than {ratios} (target at 1024: >= 10x)"
            )
        small = results["cnnlab", min(args.sizes)]
        huge = measure(model, "cnnlab", 4096, args.repeats)
        print(
            f"{model} summary at 4096x4096: {huge['seconds']:.3f} s, peak RSS "
            f"{huge['peak_mb']:.0f} MB vs {small['peak_mb']:.0f} MB at {min(args.sizes)}x"
            f"{min(args.sizes)} (difference {huge['peak_mb'] - small['peak_mb']:+.0f} MB; target "
            f"within 50 MB)"
        )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
