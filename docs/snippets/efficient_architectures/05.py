for g, paper in {1: 143, 2: 140, 3: 137, 4: 133, 8: 137}.items():
    model = build("shufflenet_v1", groups=g)
    m = macs(model) / 1e6
    print(f"g={g}: stage-4 width {model.num_features}, {m:.1f}M MACs (paper {paper})")
    assert abs(m - paper) < 0.03 * paper
