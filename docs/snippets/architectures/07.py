tv_layout = macs(build("resnet50"))
paper_layout = macs(build("resnet50", stride_in_1x1=True))
print(f"ResNet-50: {tv_layout / 1e9:.2f} GMACs (torchvision) vs {paper_layout / 1e9:.2f} (paper)")
assert abs(paper_layout / 1e9 - 3.8) < 0.03 * 3.8  # He et al., Table 1: 3.8 x 10^9 FLOPs
assert params(build("resnet50")) == params(build("resnet50", stride_in_1x1=True))
