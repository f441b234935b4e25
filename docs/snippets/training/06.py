import torch
import torch.nn.functional as F

from cnnlab.train import distillation_loss

s, t = torch.randn(8, 10, dtype=torch.float64), torch.randn(8, 10, dtype=torch.float64)
y = torch.randint(0, 10, (8,))
kl = F.kl_div(F.log_softmax(s / 4, 1), F.softmax(t / 4, 1), reduction="batchmean")
expected = 0.5 * 16 * kl + 0.5 * F.cross_entropy(s, y)
assert torch.allclose(distillation_loss(s, t, y, T=4.0, alpha=0.5), expected)
