import numpy as np
from torch import nn

from cnnlab.scratch import BCEWithLogitsLoss

x = np.array([[4.0, 4.0, -3.0], [-1.0, 2.0, 0.5]])
y = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
ours = BCEWithLogitsLoss()
loss = ours.forward(x, y)
xt = torch.tensor(x, requires_grad=True)
ref = nn.BCEWithLogitsLoss()(xt, torch.tensor(y))
ref.backward()
assert abs(loss - float(ref.detach())) < 1e-12
assert np.allclose(ours.backward(), xt.grad.numpy(), atol=1e-12)
print(f"BCE with logits: {loss:.6f} (torch {float(ref.detach()):.6f})")
