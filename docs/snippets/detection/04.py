boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 9, 10.0]])
scores = torch.tensor([0.9, 0.8, 0.7, 0.95])
keep = detection.nms(boxes, scores, iou_threshold=0.5)
print(keep)  # box 3 (0.95) wins its cluster and suppresses 0 and 1; box 2 stands alone
assert keep.tolist() == [3, 2]
assert scratch.nms(boxes.numpy(), scores.numpy(), 0.5).tolist() == [3, 2]

classes = torch.tensor([0, 1, 0, 0])  # boxes of different classes never suppress each other
print(detection.batched_nms(boxes, scores, classes, 0.5))

twins = torch.tensor([[0.0, 0.0, 3e38, 3e38], [0.0, 0.0, 3e38, 3e38]])  # float32; area overflows
assert detection.nms(twins, torch.tensor([0.8, 0.9]), 0.5).tolist() == [1]
