logits = torch.tensor([math.log(9.0), -2.0])  # p = 0.9 (easy positive), p = 0.12
labels = torch.tensor([1.0, 0.0])
print(detection.sigmoid_focal_loss(logits, labels, alpha=None, gamma=2.0))
print(torch.nn.functional.binary_cross_entropy_with_logits(logits, labels, reduction="none"))
