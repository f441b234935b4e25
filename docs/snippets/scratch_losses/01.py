import numpy as np
from cnnlab import scratch

ce = scratch.CrossEntropyLoss()
logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
target = np.array([0, 2])
print(f"loss {ce(logits, target):.4f}")
p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
onehot = np.eye(3)[target]
assert np.allclose(ce.backward(), (p - onehot) / 2)

huge = np.array([[1e4, -1e4, 0.0]])
print(ce(huge, np.array([1])))                  # 20000.0, no overflow
smooth = scratch.CrossEntropyLoss(label_smoothing=0.1)
print(f"smoothed {smooth(logits, target):.4f}")
