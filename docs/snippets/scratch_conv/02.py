dy = rng.standard_normal(y.shape)
dx = conv.backward(dy)
# each input pixel collects dy * w from every window that saw it: check one by hand
manual = np.zeros_like(x)
xp_grad = np.zeros((1, 2, 7, 7))
for i in range(3):
    for j in range(3):
        xp_grad[0, :, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3] += np.tensordot(
            dy[0, :, i, j], conv.weight.data, axes=1)
manual = xp_grad[:, :, 1:6, 1:6]
assert np.allclose(dx, manual)
assert np.allclose(conv.bias.grad, dy.sum(axis=(0, 2, 3)))
