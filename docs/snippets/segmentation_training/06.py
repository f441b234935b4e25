import torch

from cnnlab.data.scenes import make_scenes
from cnnlab.data.transforms.elastic import elastic_deform, elastic_field
from cnnlab.models import create_model
from cnnlab.models.unet import predict_tiled, unet_margin, unet_output_size

# Valid convolutions: 572 in, 388 out, 92 pixels of context lost on each side; not every size fits.
assert unet_output_size(572) == 388 and unet_margin("valid") == (572 - 388) // 2 == 92
assert unet_output_size(576, "same") == 576  # same padding keeps the size (what the recipe uses)
try:
    unet_output_size(100)
except ValueError as error:
    print(error)

# Overlap-tile: windows of out_tile + 2 * 92 pixels cover an image of any size, tile by tile.
torch.manual_seed(0)
valid_unet = create_model("unet", num_classes=3, base_channels=2).eval()
assert unet_output_size(20 + 2 * 92) == 20
for height, width in ((30, 50), (7, 41)):
    scores = predict_tiled(valid_unet, torch.randn(1, height, width), out_tile=20)
    assert scores.shape == (3, height, width)

# Elastic deformation: a smooth field moves the image and its mask together.
scene = make_scenes(1, image_size=48, seed=2, split="val")
coarse = torch.randn(2, 3, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 4
field = elastic_field(coarse, (48, 48))
step = max(float(field.diff(dim=1).abs().max()), float(field.diff(dim=2).abs().max()))
print(f"largest displacement {float(field.abs().max()):.1f} px, between neighbours {step:.2f} px")
assert step < 1  # neighbours move almost alike: strokes bend, they do not tear
image = elastic_deform(scene.images[0], field)
mask = elastic_deform(scene.masks[0], field, interpolation="nearest")
moved = float((mask != scene.masks[0]).double().mean())
agree = float(((image[0] > 0.5) == (mask > 0)).double().mean())
print(f"{moved:.1%} of the mask's pixels moved; image and mask agree on {agree:.1%} of pixels")
assert moved > 0.01 and agree > 0.97
