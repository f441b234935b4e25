# RPN: 9 anchors per position -> 4 x 9 = 36 box outputs and 2 x 9 = 18 objectness scores.
rpn = detection.RPNHead(in_channels=512, num_anchors=9)
assert (rpn.bbox_pred.out_channels, rpn.cls_logits.out_channels) == (36, 18)

# RoI Pooling rounds the box to the feature grid (stride 8 here); RoI Align does not.
features = torch.arange(16 * 16, dtype=torch.float64).reshape(1, 1, 16, 16)
box = torch.tensor([[0, 16.0, 16.0, 80.0, 80.0]])
moved = box + torch.tensor([0, 3.0, 3.0, 3.0, 3.0])  # 3 px: less than half a cell (4 px)
pool = [detection.roi_pool(features, b, 2, 1 / 8) for b in (box, moved)]
align = [detection.roi_align(features, b, 2, 1 / 8, sampling_ratio=2, aligned=True) for b in (box, moved)]
print("RoI Pool sees the move:", not torch.equal(*pool), "| RoI Align:", not torch.equal(*align))
assert torch.equal(*pool) and not torch.equal(*align)

# FPN's eq. 1: a 224-px box is pooled from P4, half of it from P3, twice from P5 (levels P2-P5).
sides = torch.tensor([56.0, 112.0, 224.0, 448.0])
level = 2 + detection.fpn_levels(torch.stack([0 * sides, 0 * sides, sides, sides], 1), 2, 5)
print("FPN levels:", level.tolist())
assert level.tolist() == [2, 3, 4, 5]

# Focal loss: an easy example (p_t = 0.9) weighs (1 - 0.9)^2 = 1/100 of its cross-entropy.
easy = torch.tensor([math.log(9.0)])
fl = detection.sigmoid_focal_loss(easy, torch.ones(1), alpha=None, gamma=2.0)
ce = torch.nn.functional.binary_cross_entropy_with_logits(easy, torch.ones(1), reduction="none")
assert torch.allclose(fl / ce, torch.tensor([0.01]))
