import torch
import torch.nn.functional as F
from torch import nn

# The ensemble's probabilities are the mean of the members' softmax, recomputed by hand ...
by_hand = torch.stack([m.outputs.double().softmax(1) for m in combined.members]).mean(0)
assert torch.allclose(combined.probabilities.double(), by_hand, atol=1e-6)
# ... and its cross-entropy is at most the members' mean (Jensen: -log is convex).
targets = combined.members[0].targets


def nll(p: torch.Tensor) -> float:
    return F.nll_loss(p.clamp_min(1e-12).log(), targets).item()


members_nll = [nll(m.outputs.double().softmax(1)) for m in combined.members]
assert nll(by_hand) <= sum(members_nll) / len(members_nll) + 1e-9

# Evaluation runs in eval mode: BN uses its running statistics, dropout is the identity.
torch.manual_seed(0)
net = nn.Sequential(nn.BatchNorm1d(4), nn.Dropout(0.5))
x = torch.randn(16, 4) * 3 + 1
train_out = net(x)  # batch statistics, half the values zeroed, the rest doubled
net.eval()
bn = net[0]
expected = (x - bn.running_mean) / (bn.running_var + bn.eps).sqrt()
assert torch.allclose(net(x), expected, atol=1e-6) and torch.equal(net(x), net(x))
assert (train_out == 0).any() and not (net(x) == 0).any()
