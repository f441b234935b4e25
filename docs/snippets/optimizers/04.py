import torch

beta1, psi = 0.9, 4e-3
steps = (1, 100, 1000, 10_000, 100_000)
mu = [beta1 * (1 - 0.5 * 0.96 ** (t * psi)) for t in steps]
print(dict(zip(steps, (round(m, 4) for m in mu))))  # NAdam's momentum: 0.45 at first, not 0.9
assert mu[0] < 0.46 and 0.8 < mu[3] < 0.82 and mu[-1] > 0.899

# The NumPy rule and torch.optim.NAdam agree step for step (float64). torch keeps the scalar
# mu_product in the *default* dtype, so with float32 defaults it would drift by ~1e-8.
def nadam_pair(steps=50):
    torch.manual_seed(0)
    start = torch.randn(5, dtype=torch.float64)
    t_param = start.clone().requires_grad_(True)
    t_opt = torch.optim.NAdam([t_param], lr=0.05, weight_decay=0.01)
    w = Parameter(start.numpy().copy())
    n_opt = optim.NAdam([w], lr=0.05, weight_decay=0.01)
    for _ in range(steps):
        t_opt.zero_grad()
        (t_param.sin() * t_param).sum().backward()
        t_opt.step()
        w.grad = np.sin(w.data) + w.data * np.cos(w.data)
        n_opt.step()
    return w.data, t_param.detach().numpy()

previous = torch.get_default_dtype()
torch.set_default_dtype(torch.float64)
try:
    ours, theirs = nadam_pair()
finally:
    torch.set_default_dtype(previous)
np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
