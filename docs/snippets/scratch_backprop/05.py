# (#2) backpropagation is the chain rule, applied from the loss backwards: for
# L = mean((sigmoid(x W^T + b) - t)^2), by hand and by the layers' backward
rng = np.random.default_rng(2)
lin, act, mse = scratch.Linear(3, 2, rng=0), scratch.Sigmoid(), scratch.MSELoss()
x, t = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
loss = mse(act(lin(x)), t)
lin.zero_grad()
lin.backward(act.backward(mse.backward()))

s = 1 / (1 + np.exp(-(x @ lin.weight.data.T + lin.bias.data)))
dL_ds = 2 * (s - t) / s.size              # d mean((s - t)^2) / ds
dL_dz = dL_ds * s * (1 - s)               # times the sigmoid's derivative
assert np.allclose(lin.weight.grad, dL_dz.T @ x)   # times dz/dW = x
assert np.allclose(lin.bias.grad, dL_dz.sum(0))
