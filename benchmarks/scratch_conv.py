"""Forward + backward of scratch.Conv2d vs torch.nn.Conv2d on the CPU, in the same run.

Cases: a 3x3 conv 64->64 on 8x64x56x56, the same with stride 2, and a depthwise 3x3 conv
(groups=64). float32 for both. Prints the median time of each (calls interleaved, so both
see the same machine load) and the ratio scratch / torch.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import numpy as np
import torch

from cnnlab.scratch import Conv2d


@dataclass
class Case:
    name: str
    stride: int
    groups: int


CASES = [
    Case("3x3 conv 64->64, 8x64x56x56", 1, 1),
    Case("3x3 conv 64->64 stride 2", 2, 1),
    Case("3x3 depthwise conv (groups=64)", 1, 64),
]


def _median_times(fns, repeats: int) -> list[float]:
    """Median wall time of each function; the calls interleave so both see the same load."""
    for fn in fns:
        fn()  # warm-up
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, bucket in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def main(repeats: int = 7) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 64, 56, 56)).astype(np.float32)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; numpy {np.__version__}")
    print(f"{'case':34s} {'scratch ms':>11s} {'torch ms':>9s} {'ratio':>6s}")
    for case in CASES:
        ours = Conv2d(64, 64, 3, stride=case.stride, padding=1, groups=case.groups, rng=0)
        ours.weight.data = ours.weight.data.astype(np.float32)
        ours.bias.data = ours.bias.data.astype(np.float32)
        ref = torch.nn.Conv2d(64, 64, 3, stride=case.stride, padding=1, groups=case.groups)
        with torch.no_grad():
            ref.weight.copy_(torch.from_numpy(ours.weight.data))
            ref.bias.copy_(torch.from_numpy(ours.bias.data))
        dy = rng.standard_normal(ours(x).shape).astype(np.float32)
        xt, dyt = torch.from_numpy(x).requires_grad_(True), torch.from_numpy(dy)

        def scratch_step(ours=ours, dy=dy) -> None:
            ours.zero_grad()
            ours(x)
            ours.backward(dy)

        def torch_step(ref=ref, xt=xt, dyt=dyt) -> None:
            ref.zero_grad()
            xt.grad = None
            ref(xt).backward(dyt)

        t_ours, t_ref = _median_times([scratch_step, torch_step], repeats)
        print(f"{case.name:34s} {t_ours * 1e3:11.1f} {t_ref * 1e3:9.1f} {t_ours / t_ref:6.2f}")


if __name__ == "__main__":
    main()
