x = torch.randn(1, 2, 4, 4)
up = bilinear_upsampling(2, 8)
ours = up(x)[..., 4:, 4:]
ref = F.interpolate(x, scale_factor=8, mode="bilinear", align_corners=False)
assert torch.allclose(ours[..., 8:24, 8:24], ref[..., 8:24, 8:24], atol=1e-5)
