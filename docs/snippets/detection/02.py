P = torch.tensor([[40.0, 35.0, 60.0, 45.0]])  # centre (50, 40), 20 x 10
G = torch.tensor([[34.0, 35.5, 74.0, 40.5]])  # centre (54, 38), 40 x 5
t = detection.encode_boxes(P, G)
print(t)  # (4/20, -2/10, log 2, log 0.5)
assert torch.allclose(t, torch.tensor([[0.2, -0.2, math.log(2), math.log(0.5)]]))
assert torch.allclose(detection.decode_boxes(P, t), G)

huge = torch.full((1, 4), 1e4)
print(detection.decode_boxes(P, huge))  # finite: the width is clamped at 62.5 x 20 = 1250
