# Where the gradient goes: the same 4x4 input and an output gradient of 1 per window, through
# 2x2 max pooling (all of it to the argmax) and average pooling (a quarter to each pixel).
# Run from docs/ to rewrite img/pooling_gradients.png.
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from cnnlab import scratch

x = np.array([[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 7.0, 7.0], [0.0, 0.0, 1.0, 2.0], [9.0, 0.0, 3.0, 1.0]])
panels = [("input x", x)]
for name, pool in (("max pooling: dL/dx", scratch.MaxPool2d(2)), ("average pooling: dL/dx", scratch.AvgPool2d(2))):
    y = pool(x[None, None])
    panels.append((name, pool.backward(np.ones_like(y))[0, 0]))
fig = Figure(figsize=(9, 3.2))
for ax, (title, values) in zip(fig.subplots(1, 3), panels):
    ax.imshow(values, cmap="Oranges")
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, f"{v:g}", ha="center", va="center")
    ax.axhline(1.5, color="k")
    ax.axvline(1.5, color="k")
    ax.set_axis_off()
    ax.set_title(title)
fig.tight_layout()
Path("img").mkdir(exist_ok=True)
fig.savefig("img/pooling_gradients.png", dpi=90)
