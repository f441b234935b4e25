for name in ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"):
    model = build(name)
    layers = sum(isinstance(m, (nn.Conv2d, nn.Linear)) for m in model.modules())
    p, m = cost(model)
    print(f"{name}: {layers} layers with weights, {p / 1e6:.2f}M parameters, {m / 1e6:.0f}M MACs")

torch.manual_seed(0)
v2 = create_model("mobilenet_v2").eval()
block = v2.features[2]
print("v2 block:", [type(m).__name__ for m in block.conv])  # ..., Conv2d, BatchNorm2d: linear
with torch.no_grad():
    out = block(v2.features[1](v2.features[0](torch.randn(1, 3, 32, 32))))
assert (out < 0).any()  # no ReLU after the projection
x = torch.linspace(-5, 5, 11)
assert torch.allclose(nn.Hardswish()(x), x * F.relu6(x + 3) / 6)
