import numpy as np
from cnnlab import scratch

drop = scratch.Dropout(p=0.4, rng=0)            # seeded numpy Generator: reproducible masks
x = np.ones(100_000)
y = drop(x)
print(f"kept {drop.mask.mean():.3f} (expected 0.6), mean output {y.mean():.3f} (expected 1)")
assert abs(drop.mask.mean() - 0.6) < 0.01 and abs(y.mean() - 1.0) < 0.02
assert set(np.unique(y)) == {0.0, 1 / 0.6}
dx = drop.backward(np.ones_like(y))
assert np.array_equal(dx == 0, ~drop.mask)      # the same mask routes the gradient

drop.eval()
assert drop(x) is x                             # identity at test time
