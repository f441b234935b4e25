import torch
from torch import nn

from cnnlab.compress import accuracy

folded = fold_bn(run.model)
x = torch.stack([run.data.val[i][0] for i in range(64)])
with torch.no_grad():
    assert torch.allclose(folded(x), run.model(x), atol=1e-5)
print(sum(isinstance(m, nn.BatchNorm2d) for m in folded.modules()), "batch norms left")
flips = abs(accuracy(folded, run.data.val) - accuracy(run.model, run.data.val))
assert flips <= 1 / len(run.data.val)     # the same function, up to float rounding
