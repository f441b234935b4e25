alex = build("alexnet")
fc = sum(params(m) for m in alex.classifier)
print(f"AlexNet: {params(alex) / 1e6:.1f}M parameters, {fc / params(alex):.0%} in fc6-fc8")
assert abs(params(alex) / 1e6 - 60) < 0.03 * 60
assert fc / params(alex) > 0.9
