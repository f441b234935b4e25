import numpy as np
from cnnlab import scratch

rng = np.random.default_rng(0)
model = scratch.Sequential(
    scratch.Conv2d(1, 4, 3, padding=1, rng=0),
    scratch.BatchNorm2d(4),
    scratch.ReLU(),
    scratch.MaxPool2d(2),
    scratch.Flatten(),
    scratch.Linear(4 * 4 * 4, 3, rng=0),
)
x = rng.standard_normal((5, 1, 8, 8))
target = np.array([0, 2, 1, 1, 0])
loss_fn = scratch.CrossEntropyLoss()

loss = loss_fn(model(x), target)     # forward: each layer caches its inputs
dx = model.backward(loss_fn.backward())  # backward: reverse order, fills .grad
print(f"loss {loss:.4f}; dx {dx.shape}")
for name, p in model.named_parameters():  # torch's names: '0.weight', '1.bias', ...
    assert p.grad.shape == p.data.shape

conv = scratch.Conv2d(3, 8, 3, padding=1, rng=0)
print(conv(np.ones((0, 3, 5, 5))).shape)  # (0, 8, 5, 5): an empty batch, as torch
conv(np.ones((2, 3, 5, 5)))
try:
    conv.backward(np.ones((2, 8, 4, 4)))
except ValueError as err:
    print(err)  # Conv2d.backward expects a gradient of shape (2, 8, 5, 5) (...), got (2, 8, 4, 4)
