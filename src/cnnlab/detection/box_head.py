"""Fast R-CNN's box head: two fully connected layers on each pooled RoI, then class scores and
class-specific box offsets.

Fast R-CNN (Girshick, 2015, sec. 2) ends in two sibling layers: a softmax over ``K + 1`` classes
(background included) and, for each of the ``K`` object classes, 4 offsets refining the
proposal for that class (``4 (K + 1)`` outputs here, the background's unused, as torchvision).
The FPN version (Lin et al., 2017, sec. 4.2) replaces the VGG layers by two 1024-wide fc layers
("2-fc MLP head") on the 7 x 7 RoI Align features. Layer names as torchvision's ``TwoMLPHead``
and ``FastRCNNPredictor``.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from cnnlab.core.validate import positive_int


class TwoMLPHead(nn.Module):
    """Flatten, ``fc6`` + ReLU, ``fc7`` + ReLU.

    Args:
        in_channels: flattened size of a pooled RoI (``C * 7 * 7``).
        representation_size: width of both layers (1024).

    Shape:
        (K, C, h, w) -> (K, representation_size)
    """

    def __init__(self, in_channels: int, representation_size: int) -> None:
        super().__init__()
        self.fc6 = nn.Linear(positive_int("in_channels", in_channels), representation_size)
        self.fc7 = nn.Linear(representation_size, representation_size)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.fc7(F.relu(self.fc6(x.flatten(start_dim=1)))))


class FastRCNNPredictor(nn.Module):
    """Class logits (``num_classes``, background 0 included) and ``4 num_classes`` offsets.

    Args:
        in_channels: width of the box head's output.
        num_classes: classes including the background.

    Shape:
        (K, in_channels) -> logits (K, num_classes), deltas (K, 4 num_classes)
    """

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        in_channels = positive_int("in_channels", in_channels)
        num_classes = positive_int("num_classes", num_classes)
        self.cls_score = nn.Linear(in_channels, num_classes)
        self.bbox_pred = nn.Linear(in_channels, num_classes * 4)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x = x.flatten(start_dim=1)
        return self.cls_score(x), self.bbox_pred(x)
