c, n, h, w = 16, 32, 3, 3
layer = nn.Conv2d(c, n, (h, w))                 # 28x28 input -> 26x26 output
with_bias = summary(layer, (c, 28, 28), count_bias=True)
H, W = 26, 26
assert with_bias.total_params == n * (h * w * c + 1) == 4640
assert with_bias.total_macs == H * W * n * (h * w * c + 1)
assert summary(layer, (c, 28, 28)).total_macs == H * W * n * h * w * c  # the default: no bias
