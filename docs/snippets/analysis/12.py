dense = summary(nn.Conv2d(256, 256, 3, bias=False), (256, 14, 14))
grouped = summary(nn.Conv2d(256, 256, 3, groups=8, bias=False), (256, 14, 14))
assert grouped.total_params == 8 * 32 * 3 * 3 * 32 == dense.total_params // 8
assert grouped.total_macs * 8 == dense.total_macs
