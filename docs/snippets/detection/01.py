import math

import numpy as np
import torch

from cnnlab import detection, scratch

a = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
b = torch.tensor([[1.0, 1.0, 3.0, 3.0], [3.0, 0.0, 5.0, 2.0]])
print(detection.box_iou(a, b))  # overlap 1 / union 7, and 0 for the disjoint box
print(detection.generalized_box_iou(a, b))  # the disjoint one: 0 - (10 - 8) / 10 = -0.2
assert torch.allclose(detection.generalized_box_iou(a, b)[0, 1], torch.tensor(-0.2))
print(detection.box_convert(a, "xyxy", "cxcywh"))  # centre (1, 1), size 2 x 2
