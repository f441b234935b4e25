gap = scratch.AdaptiveAvgPool2d(1)
feat = np.random.default_rng(0).standard_normal((2, 8, 7, 7))
assert np.allclose(gap(feat)[:, :, 0, 0], feat.mean(axis=(2, 3)))
assert np.allclose(gap.backward(np.ones((2, 8, 1, 1))), 1 / 49)
