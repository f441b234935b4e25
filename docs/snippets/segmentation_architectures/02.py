fcn = build("fcn8s")
print(fcn.fc6[0], fcn.fc7[0], sep="\n")
assert tuple(fcn.fc6[0].weight.shape) == (4096, 512, 7, 7)
print(f"FCN-8s: {params(fcn) / 1e6:.1f}M parameters (the paper's Table 1: 134M)")
