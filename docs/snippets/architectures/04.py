for name in ("vgg11", "vgg13", "vgg16", "vgg19"):
    print(f"{name}: {params(build(name)) / 1e6:.1f}M")
vgg16 = build("vgg16")
fc6 = params(vgg16.classifier[0])
print(f"fc6: {fc6 / 1e6:.1f}M = {fc6 / params(vgg16):.0%} of VGG-16")
assert abs(params(vgg16) / 1e6 - 138) < 0.03 * 138  # the paper's Table 2
assert fc6 == 7 * 7 * 512 * 4096 + 4096
