# The sliding window and im2col: a 3x3 kernel slides over a 4x4 input (stride 1, no padding) to
# 4 positions; cnnlab's im2col lays each window out as one column of a 9 x 4 matrix, and the
# layer is W (1 x 9) @ cols. The numbers drawn are im2col's own output.
# Run from docs/ to rewrite img/conv_im2col.png.
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from cnnlab.scratch.functional.window import Window2d, im2col

grid = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)
sliding = Window2d.symmetric((3, 3), (1, 1), (0, 0), (1, 1))
grid_cols = im2col(grid, sliding).reshape(9, 4)  # (1, 1, 3, 3, 2, 2) -> row p*3+q, column i*2+j
taps = np.arange(1.0, 10.0) / 10                 # a filter 0.1 .. 0.9, flattened like the rows
grid_out = (taps @ grid_cols).reshape(2, 2)
colours = ["tab:red", "tab:blue", "tab:green", "tab:orange"]

fig = Figure(figsize=(10, 3.6))
axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.3, 1.6, 0.9]})
axes[0].imshow(grid[0, 0], cmap="Greys", vmin=0, vmax=40)
for k, colour in enumerate(colours):
    i, j = divmod(k, 2)
    inset = 0.08 * k
    axes[0].add_patch(
        Rectangle((j - 0.5 + inset, i - 0.5 + inset), 3 - 2 * inset, 3 - 2 * inset,
                  fill=False, edgecolor=colour, linewidth=2)
    )
axes[0].set_title("input 4x4, 3x3 windows\n(stride 1: 2 x 2 positions)", fontsize=9)
axes[1].imshow(grid_cols, cmap="Greys", vmin=0, vmax=40, aspect="auto")
for k, colour in enumerate(colours):
    axes[1].add_patch(Rectangle((k - 0.45, -0.45), 0.9, 8.9, fill=False, edgecolor=colour, linewidth=2))
axes[1].set_title("im2col(x): 9 x 4, one column per window\n(row = kernel tap p * 3 + q)", fontsize=9)
axes[2].imshow(np.zeros_like(grid_out), cmap="Greys", vmin=0, vmax=1)
for (i, j), v in np.ndenumerate(grid_out):
    axes[2].text(j, i, f"{v:.1f}", ha="center", va="center", color=colours[i * 2 + j],
                 fontweight="bold")
axes[2].set_title("W (1 x 9) @ cols\n-> output 2x2", fontsize=9)
for ax, values in zip(axes[:2], (grid[0, 0], grid_cols)):
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=8)
for ax in axes:
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
Path("img").mkdir(exist_ok=True)
fig.savefig("img/conv_im2col.png", dpi=90)
