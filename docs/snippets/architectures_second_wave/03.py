from cnnlab.layers import Inception

with torch.device("meta"):
    module_3a = Inception(192, 64, 96, 128, 16, 32, 32)  # Table 1, inception (3a)
with_1x1 = summary(module_3a, (192, 28, 28)).total_macs
without = 28 * 28 * (192 * 64 + 192 * 128 * 9 + 192 * 32 * 25)  # 1x1, 3x3, 5x5 on all 192
print(f"inception (3a): {with_1x1 / 1e6:.0f}M MACs with reductions, {without / 1e6:.0f}M without")
assert with_1x1 == 128_049_152 and without == 303_464_448
p, m = cost(build("googlenet"))
print(f"GoogLeNet: {p / 1e6:.2f}M parameters, {m / 1e9:.2f} GMACs (paper: 6.8M, 1.5G)")
