from fractions import Fraction

fcn = nn.Sequential(
    nn.Conv2d(3, 8, 3, stride=4, padding=1),
    nn.ConvTranspose2d(8, 8, 4, stride=2, padding=1),
    nn.ConvTranspose2d(8, 8, 4, stride=2, padding=1),
    nn.ConvTranspose2d(8, 8, 4, stride=2, padding=1),
)
up = summary(fcn, (3, 64, 64))
print([r.rf_jump[0] for r in up.rows])
assert [r.rf_jump[0] for r in up.rows] == [4, 2, 1, Fraction(1, 2)]
