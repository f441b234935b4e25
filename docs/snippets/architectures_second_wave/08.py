p, m = cost(build("xception"), (3, 299, 299))
print(f"Xception: {p:,} parameters, {m / 1e9:.1f} GMACs")
assert p == 22_855_952  # the paper's Table 3
