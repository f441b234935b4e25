# (#21) in training a sample's BN output depends on the other samples of its batch: noise, a mild
# regulariser (it shrinks as the batch grows); in eval mode it does not
bn = scratch.BatchNorm2d(3)
x = rng.normal(size=(64, 3, 4, 4))
first = bn(x[:8])[0]
other = bn(np.concatenate([x[:1], x[8:15]]))[0]        # the same sample, other batch mates
print("change from batch mates:", np.abs(first - other).mean().round(3))
assert not np.allclose(first, other)

# (#22) BN's parameters: gamma and beta (learned, 2C); running mean and variance (buffers, 2C,
# updated with momentum, used at test time); hyper-parameters momentum and eps
print([name for name, _ in bn.named_parameters()], bn.running_mean.shape, bn.momentum, bn.eps)
assert sum(p.data.size for _, p in bn.named_parameters()) == 2 * 3

# (#117) why normalisation helps: after BN the output ignores the scale of the weights before it,
# and their gradient shrinks as the weights grow, which steadies the effective learning rate
conv = scratch.Conv2d(3, 4, 3, bias=False, rng=0)
net = scratch.Sequential(conv, scratch.BatchNorm2d(4, eps=1e-12))  # eps aside
x = rng.normal(size=(8, 3, 6, 6))
dy = rng.normal(size=(8, 4, 4, 4))
y1 = net(x)
net.zero_grad()
net.backward(dy)
grad1 = conv.weight.grad.copy()
conv.weight.data *= 10.0
net.zero_grad()
assert np.allclose(net(x), y1, atol=1e-6)               # BN(10 W x) = BN(W x)
net.backward(dy)
assert np.allclose(conv.weight.grad, grad1 / 10.0, atol=1e-6)
