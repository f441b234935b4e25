import math

from cnnlab.metrics import SegmentationMeter, segmentation_scores

target = torch.tensor([[[0, 0, 1, 1], [0, 0, 1, 1], [255, 255, 2, 2]]])  # 1 x 3 x 4
pred = torch.tensor([[[0, 0, 1, 1], [0, 1, 1, 1], [3, 3, 2, 2]]])
s = segmentation_scores(pred, target, num_classes=5, ignore_index=255)
print(s)  # class 3 is predicted only on ignored pixels, class 4 nowhere: both NaN
assert s["iou"][:3] == [3 / 4, 4 / 5, 1.0] and math.isnan(s["iou"][3]) and math.isnan(s["iou"][4])
assert s["mean_iou"] == (3 / 4 + 4 / 5 + 1) / 3
assert s["pixel_accuracy"] == 9 / 10  # 10 labelled pixels, one wrong
