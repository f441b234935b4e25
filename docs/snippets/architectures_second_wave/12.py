from cnnlab.layers import GlobalContext, InterleavedGroupConv, OctaveConv, SelectiveKernel

torch.manual_seed(0)
sk = SelectiveKernel(16, 16, split_input=False).eval()
x = torch.randn(1, 16, 8, 8)
with torch.no_grad():
    weights = sk.attn(sum(path(x) for path in sk.paths))
print("SK branch weights of channel 0:", weights[0, :, 0].flatten().tolist())
assert torch.allclose(weights.sum(1), torch.ones(1, 16, 1, 1))
print(f"SKNet-50: {params(build('skresnext50_32x4d')) / 1e6:.1f}M parameters")
