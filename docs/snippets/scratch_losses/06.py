import torch
import torch.nn.functional as TF

def t64(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)

rng = np.random.default_rng(0)
z = rng.standard_normal((6, 4)) * 3
y = rng.integers(0, 4, size=6)

# Q1 (#51) cross-entropy = -log softmax(z)[y]: loss and gradient softmax(z) - onehot(y) against torch
# autograd in float64, with and without label smoothing
for eps in (0.0, 0.1):
    ce = scratch.CrossEntropyLoss(label_smoothing=eps)
    zt = t64(z, grad=True)
    reference = TF.cross_entropy(zt, torch.tensor(y), label_smoothing=eps)
    reference.backward()
    assert np.isclose(ce(z, y), reference.item(), rtol=1e-14)
    assert np.allclose(ce.backward(), zt.grad.numpy(), atol=1e-15)

# Q2 (#52) the hinge loss against torch.nn.functional.multi_margin_loss, loss and gradient
hinge = scratch.MultiMarginLoss()
zt = t64(z, grad=True)
reference = TF.multi_margin_loss(zt, torch.tensor(y))
reference.backward()
assert np.isclose(hinge(z, y), reference.item()) and np.allclose(hinge.backward(), zt.grad.numpy())

# Q3 (#41) a sigmoid output a = s(z) trained with squared error gets the gradient 2 (a - t) a (1 - a):
# the factor a (1 - a) vanishes exactly when the prediction is confidently wrong; binary
# cross-entropy's gradient is a - t, the whole error. At z = -6 with target 1:
z_wrong, t = np.array([-6.0]), np.array([1.0])
sig, mse, bce = scratch.Sigmoid(), scratch.MSELoss(), scratch.BCEWithLogitsLoss()
mse(sig(z_wrong), t)
g_mse = sig.backward(mse.backward())             # chain rule through our own layers
bce(z_wrong, t)
g_bce = bce.backward()
zt = t64(z_wrong, grad=True)
TF.mse_loss(torch.sigmoid(zt), t64(t)).backward()
assert np.allclose(g_mse, zt.grad.numpy())
zt = t64(z_wrong, grad=True)
TF.binary_cross_entropy_with_logits(zt, t64(t)).backward()
assert np.allclose(g_bce, zt.grad.numpy())
print(f"dL/dz at z = -6, target 1: squared error {g_mse[0]:.4f}, cross-entropy {g_bce[0]:.4f}")
assert abs(g_bce[0]) > 100 * abs(g_mse[0])
