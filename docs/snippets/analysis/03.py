conv = summary(nn.Conv2d(3, 16, 3, padding=1), (3, 32, 32))
dense = summary(nn.Linear(3 * 32 * 32, 16 * 32 * 32), (3 * 32 * 32,))
print(conv.total_params, dense.total_params)
assert conv.total_params == 16 * (3 * 3 * 3 + 1) == 448
assert dense.total_params == (3 * 32 * 32 + 1) * 16 * 32 * 32
assert dense.total_params > 100_000 * conv.total_params
