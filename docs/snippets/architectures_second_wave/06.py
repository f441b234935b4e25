seen = []
with torch.device("meta"):
    dense = create_model("densenet121")
    for layer in dense.features.denseblock1.values():
        layer.norm1.register_forward_pre_hook(lambda m, args: seen.append(args[0].shape[1]))
    dense(torch.empty(1, 3, 224, 224))
print("input channels of dense block 1's layers:", seen)
assert seen == [64 + 32 * (l - 1) for l in range(1, 7)]
for name in ("resnet50", "densenet121", "densenet201"):
    p, m = cost(build(name))
    print(f"{name}: {p / 1e6:.1f}M parameters, {m / 1e9:.2f} GMACs")
