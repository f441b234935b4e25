import torch
from torch import nn
from torch.autograd.functional import jacobian

logits = torch.tensor([4.0, 4.0, -3.0])  # cat, dog, bird
labels = torch.tensor([1.0, 1.0, 0.0])
# Softmax ties the classes: raising one logit lowers every other probability.
# A sigmoid per class answers each question alone: its Jacobian is diagonal.
coupled = jacobian(lambda z: torch.softmax(z, dim=0), logits)
alone = jacobian(torch.sigmoid, logits)
print("d softmax / d logits:\n", coupled.numpy().round(3))
assert coupled[0, 1] < 0 and torch.equal(alone, torch.diag(torch.diagonal(alone)))

# Binary cross-entropy per class: the gradient of class j is sigmoid(x_j) - y_j, nothing else.
x = logits.clone().requires_grad_(True)
nn.BCEWithLogitsLoss(reduction="sum")(x, labels).backward()
assert torch.allclose(x.grad, torch.sigmoid(logits) - labels)

# Softmax cross-entropy with the two labels as a target of [0.5, 0.5, 0] is already content
# at "half cat, half dog": its gradient there vanishes, and neither label passes 0.5.
z = torch.tensor([4.0, 4.0, -30.0], requires_grad=True)
(-(labels / labels.sum()) * torch.log_softmax(z, dim=0)).sum().backward()
assert z.grad.abs().max() < 1e-6 and (torch.softmax(z.detach(), dim=0)[:2] <= 0.5).all()
