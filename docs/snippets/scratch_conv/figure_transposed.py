# Transposed convolution, the notes' way: the convolution 4x4 -> 2x2 (3x3 kernel) as a 4 x 16
# matrix C, the transposed convolution as C^T (2x2 -> 4x4); and a stride-2 transposed convolution
# as zeros inserted between the inputs, padding k - 1, and a plain convolution.
# Run from docs/ to rewrite img/conv_transposed.png.
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from cnnlab import scratch

conv = scratch.Conv2d(1, 1, 3, bias=False, rng=0)
C = np.stack([conv(e.reshape(1, 1, 4, 4)).ravel() for e in np.eye(16)], axis=1)
z = np.array([[1.0, 2.0], [3.0, 4.0]])
spread = np.zeros((7, 7))
spread[2:5:2, 2:5:2] = z                       # zeros between the inputs, then k - 1 = 2 of padding
up = scratch.ConvTranspose2d(1, 1, 3, stride=2, bias=False)
up.weight.data[:] = 1.0
out = up(z[None, None])[0, 0]                   # 2x2 -> 5x5

fig = Figure(figsize=(11, 3.2))
axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [2.2, 1, 1, 1]})
axes[0].imshow(C, cmap="coolwarm")
axes[0].set_title("C (4 x 16): conv 4x4 -> 2x2\nC^T (16 x 4) maps 2x2 -> 4x4")
for ax, (title, values) in zip(
    axes[1:], [("input 2x2", z), ("zeros inserted, padded", spread), ("stride-2 transposed\nconv, 3x3 of ones", out)]
):
    ax.imshow(values, cmap="Greens")
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=7)
    ax.set_title(title, fontsize=9)
for ax in axes:
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
Path("img").mkdir(exist_ok=True)
fig.savefig("img/conv_transposed.png", dpi=90)
