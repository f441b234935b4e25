# Channel shuffle, drawn from cnnlab.layers.channel_shuffle itself: 12 channels in 3 groups; after
# the shuffle every group of the next grouped convolution holds a channel of every group.
# Run from docs/ to rewrite img/channel_shuffle.png.
from pathlib import Path

import torch
from matplotlib.figure import Figure

from cnnlab.layers import channel_shuffle

groups, channels = 3, 12
x = torch.arange(channels, dtype=torch.float32).reshape(1, channels, 1, 1)
order = channel_shuffle(x, groups).flatten().long().tolist()     # which input channel lands where
assert sorted(order) == list(range(channels))
fig = Figure(figsize=(8, 3))
ax = fig.subplots()
colour = [f"C{c // (channels // groups)}" for c in range(channels)]
for c in range(channels):
    ax.scatter(c, 1, s=220, color=colour[c])
    ax.scatter(order.index(c), 0, s=220, color=colour[c])
    ax.plot([c, order.index(c)], [1, 0], color=colour[c], alpha=0.6)
for g in range(1, groups):
    ax.axvline(g * channels / groups - 0.5, color="grey", ls="--")
ax.text(-1.2, 1, "after group conv", ha="right", va="center")
ax.text(-1.2, 0, "after shuffle", ha="right", va="center")
ax.set_xlim(-6, channels)
ax.set_ylim(-0.4, 1.4)
ax.set_axis_off()
ax.set_title("channel shuffle (g = 3): each group of the next layer sees every group")
fig.tight_layout()
Path("img").mkdir(exist_ok=True)
fig.savefig("img/channel_shuffle.png", dpi=90)
