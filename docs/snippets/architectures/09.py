extra = params(build("se_resnet50")) - params(build("resnet50"))
formula = sum(n * 2 * c * c / 16 for n, c in [(3, 256), (4, 512), (6, 1024), (3, 2048)])
print(f"SE-ResNet-50: {params(build('se_resnet50')) / 1e6:.1f}M, +{extra / 1e6:.2f}M for SE")
assert abs(params(build("se_resnet50")) / 1e6 - 28.1) < 0.03 * 28.1
assert abs(extra - formula) / formula < 0.01  # the rest are the biases
