import torch

def derivative(layer, x):
    """The layer's own forward and backward: (f(x), f'(x))."""
    y = layer(x)
    return y, layer.backward(np.ones_like(x))

def torch_derivative(fn, x):
    """The reference: torch autograd in float64."""
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = fn(t)
    y.sum().backward()
    return y.detach().numpy(), t.grad.numpy()

xs = np.array([-6.0, -1.5, -0.3, 0.0, 0.7, 2.0, 6.0])

# Q1 (#40, #42) sigmoid' = s(1 - s) <= 1/4 and tanh' = 1 - tanh^2 <= 1, both peaking at 0;
# tanh is a shifted, rescaled sigmoid: tanh(x) = 2 sigmoid(2x) - 1 (zero-centred, 4x the slope)
_, ds = derivative(scratch.Sigmoid(), xs)
_, dt = derivative(scratch.Tanh(), xs)
assert np.allclose(ds, torch_derivative(torch.sigmoid, xs)[1], atol=1e-15)
assert np.allclose(dt, torch_derivative(torch.tanh, xs)[1], atol=1e-15)
assert ds.max() == ds[xs == 0].item() == 0.25 and dt.max() == dt[xs == 0].item() == 1.0
assert np.allclose(np.tanh(xs), 2 * scratch.Sigmoid()(2 * xs) - 1)

# Q2 (#45) through n sigmoid layers the gradient picks up n factors <= 1/4: 4^-10 ~ 1e-6 at n = 10;
# ReLU's factor is exactly 1 wherever the unit is active (and exactly 0 elsewhere, at 0 too)
_, dr = derivative(scratch.ReLU(), xs)
assert np.array_equal(dr, torch_derivative(torch.relu, xs)[1])
assert np.array_equal(dr, (xs > 0).astype(float))
print(f"10 sigmoid layers multiply the gradient by at most {0.25**10:.1e}; 10 active ReLUs by 1")

# Q3 (#44) ReLU on zero-mean inputs outputs exact zeros for about half of them (sparse), costs
# one comparison, and a unit whose pre-activations are all negative gets no gradient at all
h = scratch.ReLU()(rng.standard_normal((1000, 64)))
print(f"ReLU zeros: {np.mean(h == 0):.2f}")
assert 0.45 < np.mean(h == 0) < 0.55

# Q4 (#46) the variants against torch autograd in float64, forward and derivative
import torch.nn.functional as TF

variants = {
    "LeakyReLU": (scratch.LeakyReLU(0.01), lambda t: TF.leaky_relu(t, 0.01)),
    "PReLU": (scratch.PReLU(1, init=0.25), lambda t: TF.prelu(t, torch.tensor([0.25], dtype=t.dtype))),
    "ELU": (scratch.ELU(), TF.elu),
    "SELU": (scratch.SELU(), TF.selu),
    "GELU": (scratch.GELU(), TF.gelu),
    "SiLU": (scratch.SiLU(), TF.silu),
    "Mish": (scratch.Mish(), TF.mish),
}
for name, (layer, reference) in variants.items():
    y, d = derivative(layer, xs)
    y_ref, d_ref = torch_derivative(reference, xs)
    assert np.allclose(y, y_ref, atol=1e-14) and np.allclose(d, d_ref, atol=1e-14), name
    print(f"{name:9s} f(-6) = {y[0]:+.4f}   f'(-6) = {d[0]:.4f}")
