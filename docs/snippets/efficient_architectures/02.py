sep = DepthwiseSeparableConv(16, 32, norm=False, act=None)
weights = sep.dw[0].weight.numel() + sep.pw[0].weight.numel()
standard = nn.Conv2d(16, 32, 3, bias=False).weight.numel()
print(f"separable {weights} vs standard {standard} weights (ratio {weights / standard:.3f})")
assert weights == 656 and standard == 4608
assert abs(weights / standard - (1 / 32 + 1 / 9)) < 1e-12
