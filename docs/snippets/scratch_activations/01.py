import numpy as np
from cnnlab import scratch

x = np.linspace(-6, 6, 1201)
for layer in (scratch.Sigmoid(), scratch.Tanh(), scratch.ReLU(), scratch.GELU()):
    layer(x)
    d = layer.backward(np.ones_like(x))
    print(f"{type(layer).__name__:8s} max derivative {d.max():.3f}, at x=6: {d[-1]:.5f}")
