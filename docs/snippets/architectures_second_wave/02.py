for name in ("resnet50", "resnext50_32x4d"):
    p, m = cost(build(name))
    print(f"{name}: {p / 1e6:.1f}M parameters, {m / 1e9:.2f} GMACs")
block = build("resnext50_32x4d").layer1[0]
print(block.conv2)  # 128 channels in 32 groups of 4: the 32 paths of width 4
assert block.conv2.groups == 32 and block.conv2.in_channels == 32 * 4
assert abs(cost(build("resnext50_32x4d"))[1] / 1e9 - 4.2) < 0.03 * 4.2  # Table 1
