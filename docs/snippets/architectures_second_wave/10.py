from cnnlab.models.efficientnet import ALPHA, BETA, GAMMA, SCALING, EfficientNet

b0 = cost(build("efficientnet_b0"))[1]
with torch.device("meta"):
    deeper, wider = EfficientNet(depth=2.0), EfficientNet(width=2.0)
larger = cost(build("efficientnet_b0"), (3, 448, 448))[1]
ratios = [cost(deeper)[1] / b0, cost(wider)[1] / b0, larger / b0]
print("2x depth, 2x width, 2x resolution -> MACs x", [round(r, 2) for r in ratios])
assert abs(ratios[2] - 4) < 0.1 and 3 < ratios[1] < 4.5 and 1.5 < ratios[0] < 2.2
