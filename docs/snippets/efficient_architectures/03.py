table6 = {1.0: (4.2, 569), 0.75: (2.6, 325), 0.5: (1.3, 149), 0.25: (0.5, 41)}
for alpha, (paper_params, paper_macs) in table6.items():
    model = build("mobilenet_v1", width_mult=alpha)
    p, m = params(model) / 1e6, macs(model) / 1e6
    print(f"{alpha} MobileNet-224: {p:.2f}M params (paper {paper_params}), "
          f"{m:.0f}M MACs (paper {paper_macs})")
    assert abs(m - paper_macs) < 0.03 * paper_macs
table7 = {224: 569, 192: 418, 160: 290, 128: 186}
for side, paper_macs in table7.items():
    m = macs(build("mobilenet_v1"), (3, side, side)) / 1e6
    print(f"1.0 MobileNet-{side}: {m:.0f}M MACs (paper {paper_macs})")
    assert abs(m - paper_macs) < 0.03 * paper_macs
