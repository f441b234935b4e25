x = rng.standard_normal((2, 4, 3, 3))
gn_all = scratch.GroupNorm(1, 4, affine=False)(x)
ln = scratch.LayerNorm((4, 3, 3), elementwise_affine=False)(x)
gn_each = scratch.GroupNorm(4, 4, affine=False)(x)
inorm = scratch.InstanceNorm2d(4)(x)
assert np.allclose(gn_all, ln) and np.allclose(gn_each, inorm)
print(scratch.GroupNorm(2, 4)(x).reshape(2, 2, -1).mean(axis=2).round(6))   # 0 per group
