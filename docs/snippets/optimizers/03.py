import math
import torch

def notes_rmsprop(w, grads, alpha=0.01, beta=0.9):  # the notes' formula, as printed
    s = np.zeros_like(w)
    for dw in grads:
        s = beta * s + (1 - beta) * dw**2
        w = w - alpha * dw / np.sqrt(s)
    return w

def notes_adam(w, grads, alpha=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
    v, s = np.zeros_like(w), np.zeros_like(w)
    for t, dw in enumerate(grads, start=1):
        v = beta1 * v + (1 - beta1) * dw
        s = beta2 * s + (1 - beta2) * dw**2
        v_corr, s_corr = v / (1 - beta1**t), s / (1 - beta2**t)
        w = w - alpha * v_corr / (np.sqrt(s_corr) + eps)
    return w

def torch_run(make, w, grads):
    p = torch.tensor(w, requires_grad=True)
    opt = make([p])
    for dw in grads:
        p.grad = torch.tensor(dw)
        opt.step()
    return p.detach().numpy()

rng = np.random.default_rng(0)
w0 = rng.normal(size=5)
grads = [rng.normal(size=5) for _ in range(30)]
np.testing.assert_allclose(  # the notes' RMSProp is torch's with alpha = beta, eps = 0
    notes_rmsprop(w0, grads),
    torch_run(lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=0), w0, grads),
    rtol=1e-12,
)
np.testing.assert_allclose(  # the notes' Adam is torch's, eps included
    notes_adam(w0, grads),
    torch_run(lambda ps: torch.optim.Adam(ps, lr=0.01), w0, grads),
    rtol=1e-12,
)
g, eps = 1e-6, 1e-8  # first step over alpha: s_corr = g^2, v_corr = g
outside, inside = g / (math.sqrt(g**2) + eps), g / math.sqrt(g**2 + eps)
print(f"eps outside the root: {outside:.4f} alpha; inside: {inside:.4f} alpha")
assert round(outside, 2) == 0.99 and round(inside, 2) == 0.01
