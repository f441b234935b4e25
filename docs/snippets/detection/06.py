anchors = detection.make_anchors((38, 50), stride=16)  # VGG-16 conv5 of a 600 x 800 image
print(anchors.shape)  # 38 * 50 * 9 = 17100 anchors
head = detection.RPNHead(in_channels=64, num_anchors=9)
print(head.bbox_pred.out_channels, head.cls_logits.out_channels)  # 36 18
objectness, deltas = head(torch.randn(1, 64, 38, 50))
proposals = detection.decode_boxes(anchors, deltas[0])
assert proposals.shape == anchors.shape == (17100, 4)
