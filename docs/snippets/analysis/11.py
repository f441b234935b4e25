separable = nn.Sequential(
    nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False),
    nn.Conv2d(16, 32, 1, bias=False),
)
standard = nn.Conv2d(16, 32, 3, padding=1, bias=False)
assert summary(separable, (16, 32, 32)).total_params == 3 * 3 * 16 + 16 * 32 == 656
assert summary(standard, (16, 32, 32)).total_params == 3 * 3 * 16 * 32 == 4608
