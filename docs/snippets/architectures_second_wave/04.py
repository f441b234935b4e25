five = nn.Conv2d(64, 64, 5, padding=2, bias=False)
two_threes = nn.Sequential(
    nn.Conv2d(64, 64, 3, padding=1, bias=False), nn.Conv2d(64, 64, 3, padding=1, bias=False)
)
seven = nn.Conv2d(64, 64, 7, padding=3, bias=False)
one_by = nn.Sequential(
    nn.Conv2d(64, 64, (1, 7), padding=(0, 3), bias=False),
    nn.Conv2d(64, 64, (7, 1), padding=(3, 0), bias=False),
)
for big, small in ((five, two_threes), (seven, one_by)):
    fields = [summary(m, (64, 32, 32)).receptive_field.size for m in (big, small)]
    print(f"field {fields[0]} with {params(big)} weights, {fields[1]} with {params(small)}")
    assert fields[0] == fields[1] and params(small) < params(big)
p, m = cost(build("inception_v3"), (3, 299, 299))
print(f"Inception v3: {p / 1e6:.1f}M parameters, {m / 1e9:.1f} GMACs at 299x299")
