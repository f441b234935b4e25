import torch

rng = np.random.default_rng(0)
p = 0.3
x = rng.standard_normal((64, 50)) + 1.0

# Q1 (#48) the implementation, ours and torch's: y = x * m / (1 - p) with m ~ Bernoulli(1 - p), and
# the backward multiplies by the same scaled mask, so in both dx / dy = y / x elementwise
drop = scratch.Dropout(p, rng=1)
y = drop(x)
dy = rng.standard_normal(x.shape)
t = torch.tensor(x, requires_grad=True)
y_t = torch.nn.functional.dropout(t, p, training=True)
y_t.backward(torch.tensor(dy))
for out, grad in ((y, drop.backward(dy)), (y_t.detach().numpy(), t.grad.numpy())):
    assert set(np.unique(np.round(out / x, 12))) == {0.0, round(1 / (1 - p), 12)}
    assert np.allclose(grad, dy * out / x)

# Q2 (#47) the principle: each mask trains a different thinned sub-network; at test time the full
# network with the weights as trained gives the ensemble average (exact for a linear layer):
# the mean over many masks of W drop(x) is W x, the eval-mode output
lin = scratch.Linear(50, 10, rng=2)
drop_ = scratch.Dropout(0.5, rng=3)
x1 = rng.standard_normal((1, 50))
average = lin(drop_(np.repeat(x1, 20_000, axis=0))).mean(axis=0)      # one mask per row
drop_.eval()
print(f"ensemble of 20,000 masks vs test-time net: max diff {np.abs(average - lin(drop_(x1))).max():.3f}")
assert np.allclose(average, lin(drop_(x1)), atol=0.05)

# Q3 (#49, #112) train vs test: the same mean, but training adds variance p / (1 - p) E[x^2], which
# a BN placed after dropout learns as its running variance (the experiment: variance shift)
drop.train()
big = rng.standard_normal(1_000_000) + 1.0
out = drop(big)
print(f"mean {out.mean():.3f} vs {big.mean():.3f}; var {out.var():.3f} vs {big.var() + p / (1 - p) * np.mean(big**2):.3f}")
assert abs(out.mean() - big.mean()) < 0.01
assert abs(out.var() - (big.var() + p / (1 - p) * np.mean(big**2))) < 0.02
drop.eval()
assert drop(big) is big                           # test time: the identity, nothing to rescale
