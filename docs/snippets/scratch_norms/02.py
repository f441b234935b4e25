dy = rng.standard_normal(y.shape)
dx = bn.backward(dy)
xhat = (x - x.mean(axis=(0, 2, 3), keepdims=True)) / np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + 1e-5)
g = dy * bn.weight.data.reshape(1, -1, 1, 1)
inv_std = 1 / np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + 1e-5)
manual = inv_std / m * (m * g - g.sum(axis=(0, 2, 3), keepdims=True)
                        - xhat * (g * xhat).sum(axis=(0, 2, 3), keepdims=True))
assert np.allclose(dx, manual)
assert np.allclose(dx.sum(axis=(0, 2, 3)), 0)   # shifting x does not change y
report = scratch.gradcheck(scratch.BatchNorm2d(3), rng.standard_normal((4, 3, 2, 2)))
assert report.ok
