import numpy as np

from cnnlab.models import create_model
from cnnlab.models.unet import mirror_pad, predict_tiled, unet_margin

print("margin", unet_margin("valid"), "px per side")
tiny = np.arange(6.0).reshape(2, 3)
assert np.array_equal(
    mirror_pad(torch.tensor(tiny), 4, 4, 5, 5).numpy(),
    np.pad(tiny, ((4, 4), (5, 5)), mode="reflect"),
)

torch.manual_seed(0)
unet = create_model("unet", num_classes=3, base_channels=2).eval()  # valid convolutions
image = torch.randn(1, 30, 50)
scores = predict_tiled(unet, image, out_tile=20)  # windows of 20 + 2 * 92 = 204 pixels
print(tuple(image.shape), "->", tuple(scores.shape))
assert scores.shape == (3, 30, 50)
# the first output tile is the model's output on the first window of the mirrored image
padded = mirror_pad(image, 92, 92 + 10, 92, 92 + 10)
with torch.no_grad():
    first = unet(padded[None, :, :204, :204])[0]
assert torch.allclose(scores[:, :20, :20], first, atol=1e-5)
