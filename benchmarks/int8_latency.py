"""Int8 vs float32 CPU latency of ResNet-18 and MobileNet v2 at 224x224, batch 1 and 32.

The int8 models come from cnnlab.compress's static post-training path (torchao's PT2E flow with
the x86 recipe, calibrated here on random images: this measures speed, not accuracy) lowered to
oneDNN int8 kernels; the float32 models are the same networks in eager mode. Both are timed in
the same run, interleaved, median of ``--repeats``; the script prints the ratio and the state
dicts' sizes, next to torchvision's published reference point (its quantised ResNet-18 weights:
file size and ImageNet top-1 from the weights' metadata; nothing is downloaded).

    python benchmarks/int8_latency.py
    python benchmarks/int8_latency.py --threads 1 --repeats 20
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torchvision
from torch import nn
from torchvision.models import quantization as tvq

from cnnlab.compress import lower_for_cpu, quantize_static, saved_bytes
from cnnlab.models import create_model

MODELS: dict[str, Callable[[], nn.Module]] = {
    "resnet18": lambda: create_model("resnet18"),
    "mobilenet_v2": lambda: torchvision.models.mobilenet_v2(),
}


def _interleaved(candidates: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median seconds per call of each candidate, timed in turn so load hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in candidates}
    with torch.inference_mode():
        for fn in candidates.values():
            fn()
            fn()
        for _ in range(repeats):
            for name, fn in candidates.items():
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def _reference_point() -> str:
    q = tvq.ResNet18_QuantizedWeights.IMAGENET1K_FBGEMM_V1.meta
    f = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.meta
    return (
        f"torchvision's ResNet-18 weights (metadata): int8 {q['_file_size']:.1f} MB at top-1 "
        f"{q['_metrics']['ImageNet-1K']['acc@1']:.1f}% vs float {f['_file_size']:.1f} MB at "
        f"{f['_metrics']['ImageNet-1K']['acc@1']:.1f}%: {f['_file_size'] / q['_file_size']:.2f}x "
        "smaller"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="timed calls per model (10)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--size", type=int, default=224, help="image side (224)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"int8 (PT2E x86, oneDNN) vs float32 eager, {args.size}x{args.size}, torch "
        f"{torch.__version__}, {torch.get_num_threads()} threads, median of {args.repeats}"
    )
    print(f"  {'model':<13} {'batch':>5} {'float32':>11} {'int8':>11}  speed-up   size MB")
    for name in args.models:
        torch.manual_seed(0)
        model = MODELS[name]().eval()
        calibration = torch.randn(8, 3, args.size, args.size)
        quantized = quantize_static(model, calibration.split(4))
        sizes = saved_bytes(model.state_dict()) / 1e6, saved_bytes(quantized.state_dict()) / 1e6
        for batch in (1, 32):
            x = torch.randn(batch, 3, args.size, args.size)
            lowered = lower_for_cpu(quantized, x)
            t = _interleaved(
                {"float32": lambda m=model, x=x: m(x), "int8": lambda m=lowered, x=x: m(x)},
                args.repeats,
            )
            print(
                f"  {name:<13} {batch:>5} {t['float32'] * 1e3:8.1f} ms {t['int8'] * 1e3:8.1f} ms "
                f"  {t['float32'] / t['int8']:5.2f}x   {sizes[0]:.1f} -> {sizes[1]:.1f} "
                f"({sizes[0] / sizes[1]:.2f}x)"
            )
    print(_reference_point())


if __name__ == "__main__":
    main()
