print(f"alpha * beta^2 * gamma^2 = {ALPHA * BETA**2 * GAMMA**2:.2f}")
for variant, s in SCALING.items():
    p, m = cost(build(f"efficientnet_{variant}"), (3, s.resolution, s.resolution))
    print(f"B{variant[1]}: width x{s.width}, depth x{s.depth}, {s.resolution}px -> "
          f"{p / 1e6:.1f}M parameters, {m / 1e9:.2f} GMACs")
