import numpy as np
from cnnlab import scratch

rng = np.random.default_rng(0)
bn = scratch.BatchNorm2d(3)
x = rng.normal(5.0, 2.0, size=(8, 3, 4, 4))
y = bn(x)
print(y.mean(axis=(0, 2, 3)).round(6), y.std(axis=(0, 2, 3)).round(3))   # ~0 and ~1
m = 8 * 4 * 4
assert np.allclose(bn.running_mean, 0.9 * 0 + 0.1 * x.mean(axis=(0, 2, 3)))
assert np.allclose(bn.running_var, 0.9 * 1 + 0.1 * x.var(axis=(0, 2, 3), ddof=1))
