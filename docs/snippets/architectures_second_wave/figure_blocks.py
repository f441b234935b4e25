# Block diagrams: MobileNet v2's inverted residual, GoogLeNet's inception module (3a) and a
# DenseNet block. Run from docs/ to rewrite img/blocks_after_resnet.png.
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch


def box(ax, x, y, text, w=0.5, colour="#cfe2f3"):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - 0.045), w, 0.09, boxstyle="round,pad=0.01", fc=colour))
    ax.text(x, y, text, ha="center", va="center", fontsize=7)


def arrow(ax, x0, y0, x1, y1, colour="black"):
    ax.annotate("", (x1, y1), (x0, y0), arrowprops={"arrowstyle": "->", "color": colour})


fig = Figure(figsize=(11, 4.2))
inv, inc, dense = fig.subplots(1, 3)
for ax in (inv, inc, dense):
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_axis_off()

layers = ["24 channels (narrow)", "1x1 conv, expand x6 -> 144, ReLU6", "3x3 depthwise, 144, ReLU6",
          "1x1 conv, project -> 24, linear", "+  (stride 1, same width)"]
for i, text in enumerate(layers):
    y = 0.88 - i * 0.18
    box(inv, 0.42, y, text, w=0.62, colour="#fce5cd" if i in (1, 2) else "#cfe2f3")
    if i:
        arrow(inv, 0.42, y + 0.135, 0.42, y + 0.045)
inv.plot([0.73, 0.9, 0.9, 0.73], [0.88, 0.88, 0.16, 0.16], color="grey")
inv.set_title("inverted residual (MobileNet v2): narrow -> wide\n-> narrow, the shortcut joins the narrow ends", fontsize=9)

box(inc, 0.5, 0.9, "previous layer, 192", w=0.5)
branches = [["1x1, 64"], ["1x1, 96", "3x3, 128"], ["1x1, 16", "5x5, 32"], ["3x3 max pool", "1x1, 32"]]
for k, branch in enumerate(branches):
    x = 0.13 + 0.245 * k
    for j, text in enumerate(branch):
        y = 0.66 - 0.2 * j
        box(inc, x, y, text, w=0.22, colour="#d9ead3" if text.startswith("1x1") else "#cfe2f3")
        arrow(inc, 0.5 if j == 0 else x, 0.855 if j == 0 else y + 0.155, x, y + 0.045)
    arrow(inc, x, 0.66 - 0.2 * (len(branch) - 1) - 0.045, 0.5, 0.145)
box(inc, 0.5, 0.1, "concatenate: 64 + 128 + 32 + 32 = 256", w=0.7)
inc.set_title("inception module (3a): the 1x1 convolutions (green)\nreduce the channels before 3x3 and 5x5", fontsize=9)

for i in range(4):
    y = 0.85 - i * 0.22
    box(dense, 0.3, y, f"x{i}: {64 + 32 * i} channels in" if i else "x0: block input, 64", w=0.42)
    for j in range(i):                      # every earlier output feeds this layer
        dense.annotate("", (0.51, y), (0.51, 0.85 - j * 0.22), arrowprops={
            "arrowstyle": "->", "color": f"C{j}", "connectionstyle": f"arc3,rad={-0.25 - 0.15 * (i - j)}"})
dense.text(0.55, 0.02, "layer l sees k0 + k (l - 1) channels (k = 32):\nconcatenation, not addition",
           ha="center", fontsize=8)
dense.set_title("dense block (DenseNet): every layer\nreads all earlier outputs", fontsize=9)
fig.tight_layout()
Path("img").mkdir(exist_ok=True)
fig.savefig("img/blocks_after_resnet.png", dpi=90)
