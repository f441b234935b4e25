# Which values share one mean and variance (one colour) for an (N, C, H*W) batch, after Wu & He's
# Group Normalization figure: N samples down, C channels across, H*W folded into each cell.
# Run from docs/ to rewrite img/norm_axes.png.
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

N, C, G = 4, 8, 2
sets = {
    "BatchNorm\nper channel, over N, H, W": lambda n, c: c,
    "LayerNorm\nper sample, over C, H, W": lambda n, c: n,
    "InstanceNorm\nper sample and channel": lambda n, c: n * C + c,
    f"GroupNorm ({G} groups)\nper sample and group": lambda n, c: n * G + c // (C // G),
}
fig = Figure(figsize=(11, 2.8))
for ax, (title, which) in zip(fig.subplots(1, 4), sets.items()):
    ids = np.array([[which(n, c) for c in range(C)] for n in range(N)])
    ax.imshow(ids % 10, cmap="tab10", vmin=0, vmax=9)
    ax.set_xticks(range(C), [str(c) for c in range(C)])
    ax.set_yticks(range(N), [str(n) for n in range(N)])
    ax.set_xlabel("channel C (cell: all H x W)", fontsize=8)
    ax.set_ylabel("sample N")
    ax.set_title(title, fontsize=9)
fig.tight_layout()
Path("img").mkdir(exist_ok=True)
fig.savefig("img/norm_axes.png", dpi=90)
