conv = scratch.weight_norm(scratch.Conv2d(3, 4, 3, padding=1, rng=0))   # dim=0: g per filter
g = conv.parametrizations.weight.original0
v = conv.parametrizations.weight.original1
print(g.shape, v.shape, [name for name, _ in conv.named_parameters()])
w = conv.weight.data                                        # computed: g v / ||v||
assert np.allclose(np.sqrt((w**2).sum(axis=(1, 2, 3))), g.data.ravel())  # each filter has length g

x = rng.standard_normal((2, 3, 5, 5))
y1 = conv(x[:1])
assert np.allclose(y1, conv(x)[:1])                         # no batch dependence
v.data *= 10.0
assert np.allclose(conv(x[:1]), y1)                         # only the direction of v matters

conv.zero_grad()
conv(x)
conv.backward(rng.standard_normal((2, 4, 5, 5)))
assert np.allclose((v.grad * v.data).sum(axis=(1, 2, 3)), 0)   # dv is orthogonal to v
linear = scratch.weight_norm(scratch.Linear(4, 3, rng=0), dim=None)   # one g for the whole matrix
assert scratch.gradcheck(linear, rng.standard_normal((5, 4))).ok
