plus = build("deeplabv3plus_resnet50")
r513 = summary(plus, (3, 513, 513))
p, m = r513.total_params, r513.total_macs
print(f"DeepLab v3+: {p / 1e6:.1f}M parameters, {m / 1e9:.0f} GMACs at 513x513, notes {r513.notes}")
assert r513.notes == []
