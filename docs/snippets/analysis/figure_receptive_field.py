# VGG-16's conv5_3 on a real photo (scikit-learn's china.jpg, 224x224): the theoretical receptive
# field of the centre position (summary: 196 x 196) beside its effective receptive field, the
# magnitude of the input gradient of that one output (random weights, Kaiming init: no download).
# Run from docs/ to rewrite img/receptive_field_vgg16.png.
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from sklearn.datasets import load_sample_image
from torch import nn
from torchvision.models import vgg16

from cnnlab.analysis import summary

photo = load_sample_image("china.jpg")[:, 106:533]                  # the centre 427 x 427
image = torch.nn.functional.interpolate(
    torch.tensor(photo).permute(2, 0, 1)[None].float() / 255, size=(224, 224), mode="bilinear"
)
torch.manual_seed(0)
features = vgg16().features[:30].eval()                             # up to conv5_3 + ReLU
for m in features.modules():
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
box = summary(features, (3, 224, 224)).field_of("28", (7, 7))        # conv5_3, centre of 14 x 14
x = ((image - 0.45) / 0.225).requires_grad_(True)
features(x)[0, :, 7, 7].sum().backward()
erf = x.grad[0].abs().sum(0).numpy()
rows, cols = np.nonzero(erf)
# the gradient reaches exactly the reported window (inclusive ends), as the tests check
assert ((rows.min(), rows.max()), (cols.min(), cols.max())) == box.clipped

fig = Figure(figsize=(9, 4.4))
left, right = fig.subplots(1, 2)
left.imshow(image[0].permute(1, 2, 0).numpy())
(y0, y1), (x0, x1) = box.clipped
left.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0 + 1, y1 - y0 + 1, fill=False, color="yellow", lw=2))
left.set_title(f"theoretical field of conv5_3 (7, 7): {box.size[0]} x {box.size[1]}\n"
               f"(inside the image: {y1 - y0 + 1} x {x1 - x0 + 1})")
right.imshow(np.sqrt(erf / erf.max()), cmap="magma")
right.set_title("effective field: |d output / d input|\n(square root; concentrated in the centre)")
for ax in (left, right):
    ax.set_axis_off()
fig.tight_layout()
Path("img").mkdir(exist_ok=True)
fig.savefig("img/receptive_field_vgg16.png", dpi=90)
