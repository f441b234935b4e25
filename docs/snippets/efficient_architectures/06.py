for suffix, paper in {"0_5": 41, "1_0": 146, "1_5": 299, "2_0": 591}.items():
    model = build(f"shufflenet_v2_x{suffix}")
    m = macs(model) / 1e6
    print(f"ShuffleNet v2 {suffix.replace('_', '.')}x: {m:.0f}M MACs (paper {paper}), "
          f"{params(model) / 1e6:.2f}M params")
    assert abs(m - paper) < 0.03 * paper
