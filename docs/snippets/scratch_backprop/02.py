report = scratch.gradcheck(scratch.Conv2d(2, 3, 3, stride=2, dilation=2, rng=0),
                           rng.standard_normal((2, 2, 7, 7)))
print(report.describe())
assert report.ok and report.max_abs_error["weight"] < 1e-7
