"""The Region Proposal Network head of Faster R-CNN (Ren et al., 2015, sec. 3.1).

A 3x3 conv slides over the feature map; two sibling 1x1 convs predict, for each of the k anchors
at every position, 2 objectness scores (object / not object, a two-class softmax: 2k = 18 outputs
for k = 9) and 4 box offsets (4k = 36 outputs), decoded with :func:`cnnlab.detection.decode_boxes`
against :func:`cnnlab.detection.make_anchors`. (torchvision's ``RPNHead`` predicts one sigmoid
logit per anchor, k outputs, instead of the paper's 2k.)
"""

from __future__ import annotations

from torch import Tensor, nn

from cnnlab.core.validate import positive_int


def _per_anchor(x: Tensor, num_anchors: int) -> Tensor:
    """(N, A*C, H, W) -> (N, H*W*A, C): rows in the order of ``make_anchors``."""
    n, channels, h, w = x.shape
    c = channels // num_anchors
    return x.view(n, num_anchors, c, h, w).permute(0, 3, 4, 1, 2).reshape(n, h * w * num_anchors, c)


class RPNHead(nn.Module):
    """3x3 conv + ReLU, then 1x1 convs to ``2 k`` objectness scores and ``4 k`` box offsets.

    Args:
        in_channels: channels of the feature map (and of the 3x3 conv).
        num_anchors: anchors per position k (9 = 3 scales x 3 ratios).

    Shape:
        x: (N, C, H, W) -> objectness (N, H*W*k, 2), deltas (N, H*W*k, 4)
    """

    def __init__(self, in_channels: int, num_anchors: int = 9) -> None:
        super().__init__()
        in_channels = positive_int("in_channels", in_channels)
        num_anchors = positive_int("num_anchors", num_anchors)
        self.num_anchors = num_anchors
        self.conv = nn.Conv2d(in_channels, in_channels, kernel_size=3, padding=1)
        self.cls_logits = nn.Conv2d(in_channels, 2 * num_anchors, kernel_size=1)
        self.bbox_pred = nn.Conv2d(in_channels, 4 * num_anchors, kernel_size=1)
        for layer in (self.conv, self.cls_logits, self.bbox_pred):
            nn.init.normal_(layer.weight, std=0.01)
            nn.init.zeros_(layer.bias)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if x.dim() != 4:
            raise ValueError(f"RPNHead expects (N, C, H, W), got shape {tuple(x.shape)}")
        t = self.conv(x).relu()
        k = self.num_anchors
        return _per_anchor(self.cls_logits(t), k), _per_anchor(self.bbox_pred(t), k)
