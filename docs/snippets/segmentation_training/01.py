import torch
from torch import nn

logits = torch.randn(2, 3, 4, 4)
mask = torch.randint(0, 3, (2, 4, 4))
mask[:, 0, :] = 255  # the first row has no label
loss = nn.CrossEntropyLoss(ignore_index=255)(logits, mask)
keep = mask != 255
by_hand = nn.functional.cross_entropy(logits.permute(0, 2, 3, 1)[keep], mask[keep])
assert torch.allclose(loss, by_hand)  # the mean over the labelled pixels only
