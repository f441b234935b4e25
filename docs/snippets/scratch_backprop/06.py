import torch

rng = np.random.default_rng(0)
x = rng.standard_normal((5, 1, 8, 8))     # a fresh batch for the first network of this chapter

# Q1 (#2) the whole first network of this chapter against torch autograd in float64: the same
# weights copied into the torch layers, the same batch, every parameter's gradient and dL/dx
reference = torch.nn.Sequential(
    torch.nn.Conv2d(1, 4, 3, padding=1),
    torch.nn.BatchNorm2d(4),
    torch.nn.ReLU(),
    torch.nn.MaxPool2d(2),
    torch.nn.Flatten(),
    torch.nn.Linear(4 * 4 * 4, 3),
).double()
with torch.no_grad():
    for name, p in reference.named_parameters():
        p.copy_(torch.from_numpy(dict(model.named_parameters())[name].data))
model.zero_grad()                      # .grad accumulates (+=), as in torch
xt = torch.tensor(x, requires_grad=True)
loss_t = torch.nn.functional.cross_entropy(reference(xt), torch.tensor(target))
loss_t.backward()
loss = loss_fn(model(x), target)
dx = model.backward(loss_fn.backward())
assert np.isclose(loss, loss_t.item(), rtol=1e-12)
assert np.allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
for name, p in reference.named_parameters():
    assert np.allclose(dict(model.named_parameters())[name].grad, p.grad.numpy(), atol=1e-12), name
print(f"loss {loss:.6f} = torch {loss_t.item():.6f}; all {len(list(reference.parameters()))} gradients agree")

# Q2 (#2) the BP equations for an MLP, by hand: z1 = W1 x + b1, a1 = relu(z1), z2 = W2 a1 + b2;
#   delta2 = dL/dz2,  dW2 = delta2 a1^T,  delta1 = (W2^T delta2) * relu'(z1),  dW1 = delta1 x^T
W1, b1 = rng.standard_normal((5, 4)), rng.standard_normal(5)
W2, b2 = rng.standard_normal((3, 5)), rng.standard_normal(3)
xv, yv = rng.standard_normal(4), 2
z1 = W1 @ xv + b1
a1 = np.maximum(z1, 0)
z2 = W2 @ a1 + b2
delta2 = np.exp(z2 - z2.max()) / np.exp(z2 - z2.max()).sum() - np.eye(3)[yv]   # softmax - onehot
dW2, db2 = np.outer(delta2, a1), delta2
delta1 = (W2.T @ delta2) * (z1 > 0)
dW1, db1 = np.outer(delta1, xv), delta1
params = [torch.tensor(a, requires_grad=True) for a in (W1, b1, W2, b2)]
logits = params[2] @ torch.relu(params[0] @ torch.tensor(xv) + params[1]) + params[3]
torch.nn.functional.cross_entropy(logits[None], torch.tensor([yv])).backward()
for ours, theirs in zip((dW1, db1, dW2, db2), params):
    assert np.allclose(ours, theirs.grad.numpy(), atol=1e-14)

# Q3 why backwards? One scalar loss, many parameters: reverse mode gets every dL/dtheta in one
# backward pass (a few times the cost of the forward); finite differences need 2 forwards per
# parameter, which is why they only check, never train
n_params = sum(p.data.size for p in model.parameters())
print(f"{n_params} parameters: 1 backward pass vs {2 * n_params} forward passes by finite differences")
