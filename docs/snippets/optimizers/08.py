# (#31-33) gradient descent, mini-batch and SGD run one rule; they differ in the data per step.
# A mini-batch gradient is an unbiased estimate of the full gradient: least squares, 1000 samples
rng = np.random.default_rng(1)
X, y = rng.normal(size=(1000, 3)), rng.normal(size=1000)
theta = np.zeros(3)
per_sample = (X @ theta - y)[:, None] * X                 # one gradient per sample (online SGD)
full = per_sample.mean(0)                                 # gradient descent: all 1000
batches = per_sample.reshape(100, 10, 3).mean(1)          # batch 10: 100 iterations = 1 epoch
assert np.allclose(batches.mean(0), full) and np.allclose(per_sample.mean(0), full)
print("gradient variance, batch 1 vs 10:", per_sample.var(0).sum().round(3),
      batches.var(0).sum().round(3))                      # about 10x smaller

# (#34) momentum averages past gradients: under a constant gradient g the buffer tends to
# g / (1 - mu), a 10x longer step for mu = 0.9
w = Parameter(np.zeros(1))
opt = optim.create_optimizer("momentum", [w], lr=0.01)   # mu = 0.9
for _ in range(200):
    w.grad = np.ones(1)
    opt.step()
assert np.isclose(opt.state[w]["momentum_buffer"][0], 1 / (1 - 0.9))

# (#36) AdaGrad divides by the root of the summed squares: step t is lr / sqrt(t) for g = 1
w = Parameter(np.zeros(1))
opt = optim.create_optimizer("adagrad", [w], lr=0.1)
steps = []
for t in range(1, 101):
    before = w.data.copy()
    w.grad = np.ones(1)
    opt.step()
    steps.append((before - w.data)[0])
assert np.allclose(steps, 0.1 / np.sqrt(np.arange(1, 101)), rtol=1e-8)
