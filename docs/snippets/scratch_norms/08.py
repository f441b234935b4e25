import torch
import torch.nn.functional as TF

def against_torch(ours, reference, x, *weights):
    """Forward and dL/dx (and dL/dweights) of our layer vs torch autograd in float64."""
    dy = rng.normal(size=x.shape)
    xt = torch.tensor(x, requires_grad=True)
    wt = [torch.tensor(w, requires_grad=True) for w in weights]
    yt = reference(xt, *wt)
    yt.backward(torch.tensor(dy))
    assert np.allclose(ours(x), yt.detach().numpy(), atol=1e-12)
    assert np.allclose(ours.backward(dy), xt.grad.numpy(), atol=1e-12)
    return [w.grad.numpy() for w in wt]

xb = rng.normal(size=(6, 4, 5, 5)) * 3 + 1

# BN in training (#19, #20, #23): forward, dL/dx, dL/dgamma and dL/dbeta; then the running
# statistics (#22: unbiased variance, momentum 0.1) and the test-time output (#24)
bn = scratch.BatchNorm2d(4)
bn.weight.data[:], bn.bias.data[:] = rng.normal(size=4), rng.normal(size=4)
tbn = torch.nn.BatchNorm2d(4).double()
with torch.no_grad():
    tbn.weight.copy_(torch.tensor(bn.weight.data))
    tbn.bias.copy_(torch.tensor(bn.bias.data))
bn.zero_grad()
dgamma, dbeta = against_torch(
    bn, lambda t, g, b: TF.batch_norm(t, None, None, g, b, training=True), xb, bn.weight.data, bn.bias.data
)
assert np.allclose(bn.weight.grad, dgamma) and np.allclose(bn.bias.grad, dbeta)
tbn(torch.tensor(xb))                                    # torch's running statistics after the same batch
assert np.allclose(bn.running_mean, tbn.running_mean.numpy()) and np.allclose(bn.running_var, tbn.running_var.numpy())
bn.eval()
tbn.eval()
assert np.allclose(bn(xb), tbn(torch.tensor(xb)).detach().numpy())

# LN, IN, GN (#26-28, #91): the same normalisation over other axes, each against torch
against_torch(scratch.LayerNorm((4, 5, 5), elementwise_affine=False), lambda t: TF.layer_norm(t, (4, 5, 5)), xb)
against_torch(scratch.InstanceNorm2d(4), lambda t: TF.instance_norm(t), xb)
against_torch(scratch.GroupNorm(2, 4, affine=False), lambda t: TF.group_norm(t, 2), xb)
print("BN (train, running stats, eval), LN, IN, GN: forward and backward equal torch's in float64")
