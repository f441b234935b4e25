r50 = build("resnet50")
with torch.device("meta"):
    stem = r50.maxpool(r50.relu(r50.bn1(r50.conv1(torch.empty(1, 3, 224, 224)))))
print("stem output:", tuple(stem.shape))
assert tuple(stem.shape) == (1, 64, 56, 56)
print(f"7x7 stem conv: {params(r50.conv1)} weights; one 3x3 conv 256->256: {9 * 256 * 256}")
