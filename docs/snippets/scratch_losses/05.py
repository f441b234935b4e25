# (#51) cross-entropy's gradient with respect to the logits is softmax - onehot (over N)
ce = scratch.CrossEntropyLoss()
z = np.array([[2.0, 0.5, -1.0]])
ce(z, np.array([0]))
soft = np.exp(z) / np.exp(z).sum()
assert np.allclose(ce.backward(), soft - np.eye(3)[0])

# (#52) hinge: a sample beyond the margin costs nothing and gets no gradient; cross-entropy keeps
# pushing it
hinge = scratch.MultiMarginLoss()
sure = np.array([[5.0, 0.0, 0.0]])
assert hinge(sure, np.array([0])) == 0.0 and not hinge.backward().any()
assert ce(sure, np.array([0])) > 0 and ce.backward()[0, 0] < 0

# (#53) focal loss -(1 - p_t)^gamma log p_t: an easy example (p_t = 0.9) weighs 100x less at gamma 2
import torch
from cnnlab.detection import sigmoid_focal_loss

logit = torch.log(torch.tensor([9.0]))                     # p = 0.9, target 1: easy
focal = sigmoid_focal_loss(logit, torch.ones(1), alpha=None, gamma=2.0, reduction="sum")
plain = sigmoid_focal_loss(logit, torch.ones(1), alpha=None, gamma=0.0, reduction="sum")
assert torch.isclose(focal / plain, torch.tensor(0.01))
