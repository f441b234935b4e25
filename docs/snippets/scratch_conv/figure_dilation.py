# The notes' figure a/b/c: 3x3 kernels at dilation 1, 2, 4 stacked; taps in colour, the field
# of the stack so far in grey (3, 7, 15 pixels). Run from docs/ to rewrite img/conv_dilation.png.
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

fig = Figure(figsize=(9, 3.2))
field = 1
for ax, d in zip(fig.subplots(1, 3), (1, 2, 4)):
    grid = np.zeros((15, 15))
    c = 7
    field += 2 * d                                    # stride 1: the field grows by d (k - 1)
    half = field // 2
    grid[c - half : c + half + 1, c - half : c + half + 1] = 0.35
    for i in (-1, 0, 1):
        for j in (-1, 0, 1):
            grid[c + i * d, c + j * d] = 1.0
    ax.imshow(grid, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(np.arange(-0.5, 15, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, 15, 1), minor=True)
    ax.grid(which="minor", color="white", linewidth=0.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set_title(f"dilation {d}: 9 weights, field {field}x{field}")
fig.tight_layout()
Path("img").mkdir(exist_ok=True)
fig.savefig("img/conv_dilation.png", dpi=90)
