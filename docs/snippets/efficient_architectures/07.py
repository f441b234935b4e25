# (#98) MobileNet v1 has 28 layers when depthwise and pointwise count separately: a full 3x3 conv,
# 13 depthwise separable blocks (26 layers) and the classifier
mb1 = build("mobilenet_v1")
layers = [m for m in mb1.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
print(len(layers), f"{params(mb1) / 1e6:.1f}M parameters, {macs(mb1) / 1e6:.0f}M MACs")
assert len(layers) == 28

# (#105) ShuffleNet v2's guideline G1: at fixed FLOPs B = hw c1 c2, a 1x1 convolution's memory
# traffic hw (c1 + c2) + c1 c2 is smallest when its input and output widths are equal
hw, B = 56 * 56, 56 * 56 * 128 * 128
traffic = {c1: hw * (c1 + B // (hw * c1)) + B // hw for c1 in (16, 32, 64, 128, 256, 512, 1024)}
print(traffic)
assert min(traffic, key=traffic.get) == 128
