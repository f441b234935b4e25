# (#6, #16) why not all zeros (or any constant)? every hidden unit then computes the same thing and
# receives the same gradient, so they stay identical for ever: the symmetry must be broken
from cnnlab import scratch

net = scratch.Sequential(scratch.Linear(4, 3), scratch.Tanh(), scratch.Linear(3, 2))
for p in net.parameters():
    p.data[...] = 0.5                                       # a constant initialisation
loss = scratch.CrossEntropyLoss()
loss(net(np.random.default_rng(0).normal(size=(8, 4))), np.array([0, 1] * 4))
net.zero_grad()
net.backward(loss.backward())
first = net[0].weight.grad
assert np.allclose(first, first[:1])                        # three hidden units, one gradient

# (#17) Xavier's argument: Var(y) = fan_in Var(W) Var(x) forward, fan_out Var(W) Var(dy) backward;
# Var(W) = 2 / (fan_in + fan_out) compromises between keeping both at 1
fan_in, fan_out = 256, 128
W = init.xavier_normal_(np.zeros((fan_out, fan_in)), rng=0)
x = np.random.default_rng(1).normal(size=(fan_in, 20_000))
ratio = (W @ x).var() / x.var()
print(f"Var(y) / Var(x) = {ratio:.3f}, predicted {fan_in * 2 / (fan_in + fan_out):.3f}")
assert abs(ratio - fan_in * 2 / (fan_in + fan_out)) < 0.05
