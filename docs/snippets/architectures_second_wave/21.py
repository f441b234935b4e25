# (#109) what depth and width cost: L layers of 3x3 convolutions at C channels cost L * 9 C^2 HW,
# linear in depth and quadratic in width (the accuracy they buy is the papers' measurement)
def plain(depth, width):
    return nn.Sequential(*[nn.Conv2d(width, width, 3, padding=1, bias=False) for _ in range(depth)])


base = cost(plain(4, 32), (32, 28, 28))[1]
assert cost(plain(8, 32), (32, 28, 28))[1] == 2 * base                  # twice as deep: 2x
assert cost(plain(4, 64), (64, 28, 28))[1] == 4 * base                  # twice as wide: 4x
rf = [summary(plain(d, 8), (8, 64, 64)).receptive_field.size[0] for d in (2, 4, 8)]
print("receptive field at depth 2, 4, 8:", rf)                          # depth also sees more
assert rf == [5, 9, 17]
