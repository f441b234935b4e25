def stack(dilations):
    layers = [nn.Conv2d(8, 8, 3, padding=d, dilation=d) for d in dilations]
    return summary(nn.Sequential(*layers), (8, 128, 128))

plain = stack([1, 1, 1, 1, 1])
dilated = stack([1, 2, 4, 8, 16])
print([r.rf_size[0] for r in plain.rows], [r.rf_size[0] for r in dilated.rows])
assert [r.rf_size[0] for r in plain.rows] == [1 + (3 - 1) * L for L in range(1, 6)]
assert [r.rf_size[0] for r in dilated.rows] == [3, 7, 15, 31, 63]  # 2^(l+1) - 1
assert plain.total_params == dilated.total_params and dilated.rows[-1].rf_jump == (1, 1)
