for name in ("inception_v4", "inception_resnet_v2"):
    p, m = cost(build(name), (3, 299, 299))
    print(f"{name}: {p / 1e6:.1f}M parameters, {m / 1e9:.1f} GMACs")
irv2 = build("inception_resnet_v2")
print("residual scales:", irv2.repeat[0].scale, irv2.repeat_1[0].scale, irv2.repeat_2[0].scale)
