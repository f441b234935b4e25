from fractions import Fraction

# (#83) depthwise separable / standard = (k^2 C + C N) / (k^2 C N) = 1/N + 1/k^2, in MACs too
k, C_in, N = 3, 16, 32
sep = summary(separable, (C_in, 32, 32)).total_macs
std = summary(standard, (C_in, 32, 32)).total_macs
assert Fraction(sep, std) == Fraction(1, N) + Fraction(1, k * k)  # 656 / 4608: 7.0x fewer
print(f"speed-up {std / sep:.2f}x")

# (#54) a 1x1 convolution mixes channels only: field 1, cost C_in * C_out per pixel. As a
# reduction before a 5x5 (GoogLeNet's inception 3a: 192 -> 16 -> 32 at 28x28) it cuts the MACs 10x
direct = summary(nn.Conv2d(192, 32, 5, padding=2, bias=False), (192, 28, 28))
reduced = summary(
    nn.Sequential(nn.Conv2d(192, 16, 1, bias=False), nn.Conv2d(16, 32, 5, padding=2, bias=False)),
    (192, 28, 28),
)
assert summary(nn.Conv2d(192, 16, 1), (192, 28, 28)).receptive_field.size == (1, 1)
assert reduced.receptive_field.size == direct.receptive_field.size == (5, 5)
print(direct.total_macs, reduced.total_macs)  # 120,422,400 vs 12,443,648
assert direct.total_macs > 9 * reduced.total_macs

# (#14) the recurrence by hand over VGG-16 up to conv5_3: r += (k - 1) j, j *= stride
r, j = 1, 1
for stage, convs in enumerate([2, 2, 3, 3, 3]):
    for _ in range(convs):
        r += 2 * j                     # 3x3 convolution, stride 1
    if stage < 4:
        r, j = r + j, j * 2            # 2x2 max pooling, stride 2
assert (r, r) == conv5_3.rf_size == (196, 196)
