# The three losses of this chapter against the margin m of the right class (two classes, logits
# (m, 0), target 0), and their gradient with respect to m: cross-entropy never stops pushing,
# the hinge stops at m = 1, squared error on the softmax barely moves a confidently wrong sample.
# Every value is the scratch loss's forward and backward. Run from docs/ to rewrite
# img/losses_margin.png.
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from cnnlab import scratch

margins = np.linspace(-4, 4, 161)
curves = {"cross-entropy": [], "hinge (MultiMargin)": [], "squared error on softmax": []}
slopes = {name: [] for name in curves}
first = np.array([0])
for m in margins:
    z2 = np.array([[m, 0.0]])
    for name, loss_fn in (("cross-entropy", scratch.CrossEntropyLoss()), ("hinge (MultiMargin)", scratch.MultiMarginLoss())):
        curves[name].append(loss_fn(z2, first))
        g2 = loss_fn.backward()[0]
        slopes[name].append(g2[0])                        # d loss / d m: m is logit 0
    s2 = 1 / (1 + np.exp(-m))
    square = scratch.MSELoss()
    curves["squared error on softmax"].append(square(np.array([[s2, 1 - s2]]), np.array([[1.0, 0.0]])))
    g2 = square.backward()[0]
    slopes["squared error on softmax"].append((g2[0] - g2[1]) * s2 * (1 - s2))  # softmax chain
fig = Figure(figsize=(9, 3.4))
left, right = fig.subplots(1, 2)
for name in curves:
    left.plot(margins, curves[name], label=name)
    right.plot(margins, slopes[name], label=name)
left.set(xlabel="margin m = z_right - z_wrong", ylabel="loss", title="loss")
right.set(xlabel="margin m = z_right - z_wrong", ylabel="d loss / d m", title="gradient")
left.legend(fontsize=8)
for ax in (left, right):
    ax.grid(alpha=0.3)
    ax.axvline(0, color="grey", linewidth=0.5)
fig.tight_layout()
Path("img").mkdir(exist_ok=True)
fig.savefig("img/losses_margin.png", dpi=90)
