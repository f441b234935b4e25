block = r50.layer1[1]
bottleneck = sum(params(c) for c in (block.conv1, block.conv2, block.conv3))
assert bottleneck == 256 * 64 + 9 * 64 * 64 + 64 * 256 == 69632
assert 2 * 9 * 256 * 256 == 1179648
