meter = SegmentationMeter(5, ignore_index=255)
meter.update(torch.nn.functional.one_hot(pred, 5).permute(0, 3, 1, 2).float(), target)
assert meter.compute()["iou"][:3] == s["iou"][:3]
