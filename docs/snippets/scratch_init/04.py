import torch

from cnnlab import scratch

# Q1 (#17) Xavier: a linear layer y = W x multiplies the variance by fan_in Var(W) going forward
# and the gradient's by fan_out Var(W) going back; Var(W) = 2 / (fan_in + fan_out) is the
# compromise: both ratios are 1 on a square layer, 2 fan_in / (fan_in + fan_out) and
# 2 fan_out / (fan_in + fan_out) otherwise (here 1.6 and 0.4)
fan_in, fan_out = 512, 128
lin = scratch.Linear(fan_in, fan_out, bias=False, rng=rng)
init.xavier_uniform_(lin.weight, rng=rng)
x = rng.standard_normal((4096, fan_in))
y = lin(x)
dy = rng.standard_normal(y.shape)
dx = lin.backward(dy)
forward, backward = y.var() / x.var(), dx.var() / dy.var()
print(f"Xavier, 512 -> 128: forward x{forward:.2f}, backward x{backward:.2f}")
assert abs(forward - 2 * fan_in / (fan_in + fan_out)) < 0.05
assert abs(backward - 2 * fan_out / (fan_in + fan_out)) < 0.05
# the same bound as torch.nn.init.xavier_uniform_: the largest |w| of both approaches
# a = sqrt(6 / (fan_in + fan_out)), and the variances agree
reference = torch.nn.init.xavier_uniform_(torch.empty(fan_out, fan_in, dtype=torch.float64))
a = np.sqrt(6 / (fan_in + fan_out))
assert np.abs(lin.weight.data).max() <= a and reference.abs().max().item() <= a
assert abs(lin.weight.data.var() / reference.var().item() - 1) < 0.02

# Q2 (#6, #16) Kaiming: ReLU zeroes half of a symmetric input, so E[relu(z)^2] = Var(z) / 2 and
# Var(W) = 2 / fan_in restores the scale; the gains equal torch's for every nonlinearity
z = rng.standard_normal(1_000_000)
assert abs(np.mean(np.maximum(z, 0) ** 2) - 0.5) < 0.01
for name in ("linear", "conv2d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"):
    assert init.calculate_gain(name) == torch.nn.init.calculate_gain(name), name
ours = init.kaiming_normal_(np.zeros((256, 64, 3, 3)), nonlinearity="relu", rng=rng)
theirs = torch.nn.init.kaiming_normal_(torch.empty(256, 64, 3, 3, dtype=torch.float64), nonlinearity="relu")
assert abs(ours.std() / theirs.std().item() - 1) < 0.02
