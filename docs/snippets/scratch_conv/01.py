import numpy as np
from cnnlab import scratch
from cnnlab.scratch.functional.naive import conv2d_naive
from cnnlab.scratch.functional.window import Window2d, im2col

rng = np.random.default_rng(0)
x = rng.standard_normal((1, 2, 5, 5))
conv = scratch.Conv2d(2, 3, kernel_size=3, stride=2, padding=1, rng=0)
y = conv(x)
print(y.shape)                      # (1, 3, 3, 3): floor((5 + 2 - 2 - 1) / 2) + 1 = 3

cols = im2col(x, conv.window)       # (N, C, kH, kW, H_out, W_out)
print(cols.shape)
assert np.allclose(y, conv2d_naive(x, conv.weight.data, conv.bias.data, conv.window))
