octave = OctaveConv(64, 64, 3, alpha_in=0.5, alpha_out=0.5)
print("octave conv weights:", params(octave), "plain:", 64 * 64 * 9)
for name in ("resnet50", "oct_resnet50"):
    p, m = cost(build(name))
    print(f"{name}: {p / 1e6:.2f}M parameters, {m / 1e9:.2f} GMACs")
print("the ratio at alpha = 0.5:", 1 - 0.75 * 0.5 * 1.5)
