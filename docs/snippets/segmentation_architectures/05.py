unet = build("unet")
with torch.device("meta"):
    out = unet(torch.empty(1, 1, 572, 572))
print(f"U-Net: {params(unet) / 1e6:.2f}M parameters, 572 -> {out.shape[-1]}")
assert tuple(out.shape) == (1, 2, 388, 388)
assert abs(params(unet) / 1e6 - 31.0) < 0.03 * 31.0
