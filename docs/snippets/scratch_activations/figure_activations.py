# The activations and their derivatives, both from the scratch layers' forward and backward.
# Run from docs/ to rewrite img/activations.png.
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from cnnlab import scratch

x = np.linspace(-5, 5, 501)
fig = Figure(figsize=(9, 3.4))
values, derivatives = fig.subplots(1, 2)
for layer in (scratch.Sigmoid(), scratch.Tanh(), scratch.ReLU(), scratch.LeakyReLU(0.1), scratch.GELU()):
    name = type(layer).__name__
    values.plot(x, layer(x), label=name)
    derivatives.plot(x, layer.backward(np.ones_like(x)), label=name)
values.set_title("f(x)")
derivatives.set_title("f'(x): sigmoid's is at most 1/4")
for ax in (values, derivatives):
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
fig.tight_layout()
Path("img").mkdir(exist_ok=True)
fig.savefig("img/activations.png", dpi=90)
