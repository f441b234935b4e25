block = scratch.Residual(scratch.Sequential(scratch.Conv2d(3, 3, 3, padding=1, rng=1),
                                            scratch.BatchNorm2d(3)))
y = block(rng.standard_normal((2, 3, 5, 5)))
dy = rng.standard_normal(y.shape)
dx = block.backward(dy)
through_block = block.block.backward(dy)       # the F(x) path alone (its cache is still there)
assert np.allclose(dx, through_block + dy)     # + the identity path, unchanged
