rng = np.random.default_rng(0)

def final_scale(fill, depth=30, width=256):
    h = rng.standard_normal((256, width))
    for _ in range(depth):
        h = np.maximum(h @ fill(np.zeros((width, width))).T, 0.0)
    return np.sqrt(np.mean(h ** 2))

he = final_scale(lambda w: init.kaiming_normal_(w, nonlinearity="relu", rng=rng))
xavier = final_scale(lambda w: init.xavier_normal_(w, rng=rng))
tiny = final_scale(lambda w: init.normal_(w, 0.0, 0.01, rng=rng))
print(f"He {he:.3f}, Xavier {xavier:.2e}, N(0, 0.01^2) {tiny:.2e}")
assert 0.3 < he < 3 and xavier < 1e-3 and tiny < 1e-20
