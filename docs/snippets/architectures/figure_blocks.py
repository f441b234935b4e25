# Block diagrams: ResNet's basic block, its bottleneck (channels for a 256-wide stage) and
# ResNet v2's pre-activation block. Run from docs/ to rewrite img/blocks_resnet.png.
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch


def stack(ax, title, layers, after_sum=None, colour="#cfe2f3"):
    """Layers top to bottom, an identity shortcut on the right, the sum, what follows it."""
    step = min(0.16, 0.72 / len(layers))
    ys = [0.88 - i * step for i in range(len(layers))]
    for y, text in zip(ys, layers):
        ax.add_patch(FancyBboxPatch((0.15, y - step / 3), 0.55, step * 2 / 3, boxstyle="round,pad=0.01", fc=colour))
        ax.text(0.425, y, text, ha="center", va="center", fontsize=8)
    for y0, y1 in zip(ys[:-1], ys[1:]):
        ax.annotate("", (0.425, y1 + step / 3), (0.425, y0 - step / 3), arrowprops={"arrowstyle": "->"})
    y_sum = ys[-1] - 0.12
    ax.annotate("", (0.425, y_sum + 0.03), (0.425, ys[-1] - step / 3), arrowprops={"arrowstyle": "->"})
    ax.plot([0.425, 0.85, 0.85], [0.98, 0.98, y_sum], color="grey")
    ax.annotate("", (0.455, y_sum), (0.85, y_sum), arrowprops={"arrowstyle": "->", "color": "grey"})
    ax.text(0.88, 0.6, "identity", rotation=90, color="grey", fontsize=8, va="center")
    ax.text(0.425, y_sum, "+", ha="center", va="center", fontsize=14)
    if after_sum:
        ax.text(0.425, y_sum - 0.08, after_sum, ha="center", va="center", fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_axis_off()


fig = Figure(figsize=(10, 4))
a, b, c = fig.subplots(1, 3)
stack(a, "basic block (ResNet-18/34)", ["3x3 conv, 64", "BN, ReLU", "3x3 conv, 64", "BN"], "ReLU")
stack(b, "bottleneck (ResNet-50/101/152)",
      ["1x1 conv, 256 -> 64", "BN, ReLU", "3x3 conv, 64", "BN, ReLU", "1x1 conv, 64 -> 256", "BN"], "ReLU")
stack(c, "pre-activation (ResNet v2)", ["BN, ReLU", "3x3 conv", "BN, ReLU", "3x3 conv"],
      "nothing after the sum", colour="#d9ead3")
fig.tight_layout()
Path("img").mkdir(exist_ok=True)
fig.savefig("img/blocks_resnet.png", dpi=90)
