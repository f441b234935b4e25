import math
import warnings

import torch
import torch.nn.functional as F

# Saddle (#4): near the origin of x^2 - y^2 + y^4/4, each GD step (lr 0.02) multiplies y by 1.04.
assert math.ceil(math.log(0.1 / 0.001) / math.log(1 + 2 * 0.02)) == 118  # as the race measured

# Max vs average pooling (#84): a global pool is unchanged wherever the feature moves.
x = torch.zeros(1, 1, 8, 8)
x[..., 2, 3] = 1.0
moved = torch.roll(x, shifts=(3, 2), dims=(2, 3))
for pool in (F.adaptive_max_pool2d, F.adaptive_avg_pool2d):
    assert torch.equal(pool(x, 1), pool(moved, 1))

# Odd kernels (#114): with padding="same", an odd kernel keeps a pixel's response centred on it;
# an even kernel moves it by half a pixel.
delta = torch.zeros(1, 1, 9, 9)
delta[..., 4, 4] = 1.0
for k, shift in {2: -0.5, 3: 0.0, 4: -0.5, 5: 0.0}.items():
    with warnings.catch_warnings(action="ignore", category=UserWarning):  # even k: torch warns
        out = F.conv2d(delta, torch.ones(1, 1, k, k), padding="same")[0, 0]
    centroid = float((out.sum(0) * torch.arange(9.0)).sum() / out.sum())
    assert math.isclose(centroid - 4, shift), (k, centroid)
