igc = InterleavedGroupConv(primary_groups=4, group_channels=8)  # 32 channels
print(f"IGC block: {params(igc)} weights; a dense 3x3 conv: {32 * 32 * 9}")
for name in ("mobilenet_v2", "igcv3"):
    model = build(name)
    blocks = sum(type(m).__name__ in ("InvertedResidual", "IGCV3Block") for m in model.modules())
    p, m = cost(model)
    print(f"{name}: {blocks} blocks, {p / 1e6:.2f}M parameters, {m / 1e6:.0f}M MACs")
