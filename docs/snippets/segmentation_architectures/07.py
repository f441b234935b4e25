# (#76) FCN takes any size and answers pixel for pixel: 37, 100 and 333 pixels in, same out
fcn = build("fcn8s")
with torch.device("meta"):
    for side in (37, 100, 333):
        assert tuple(fcn(torch.empty(1, 3, side, side)).shape) == (1, 21, side, side)

# (#77) FCN adds the skip's class scores; U-Net concatenates the skip's features: its first
# up-step convolves 512 upsampled + 512 encoder channels, so detail re-enters as features
from torch import nn

first_up_convs = [m for m in unet.modules() if isinstance(m, nn.Conv2d) and m.in_channels == 1024]
print([(m.in_channels, m.out_channels) for m in first_up_convs])
assert any(m.out_channels == 512 for m in first_up_convs)
# valid convolutions: 572 in, 388 out: every output pixel sees all of its context (92 on each side)
assert (572 - unet_output_size(572)) // 2 == 92
