from cnnlab.metrics import mean_average_precision


def image(boxes, labels, scores=None):
    entry = {"boxes": torch.tensor(boxes).reshape(-1, 4), "labels": torch.tensor(labels)}
    if scores is not None:
        entry["scores"] = torch.tensor(scores)
    return entry


targets = [
    image([[0.0, 0, 10, 10], [20, 20, 40, 40]], [1, 2]),
    image([[0.0, 0, 10, 10]], [1]),  # a cat that the detector misses
]
predictions = [
    image([[50.0, 50, 60, 60], [0, 0, 10, 10], [20, 20, 40, 36]], [1, 1, 2], [0.95, 0.9, 0.8]),
    image([[0.0, 0, 5, 5]], [3], [0.3]),  # class 3 exists only in the predictions
]
result = mean_average_precision(predictions, targets)
print(result)
# class 1: a false positive ranks first, then 1 of 2 boxes found: precision 1/2 up to recall 1/2,
# so 51 of the 101 recall points read 0.5, at every threshold (that box's IoU is 1)
assert abs(result["per_class"][1] - 51 * 0.5 / 101) < 1e-12
# class 2: IoU 320 / 400 = 0.8 matches at t = 0.50 ... 0.80 (7 thresholds), not 0.85 ... 0.95
assert abs(result["per_class"][2] - 0.7) < 1e-12
assert result["per_class"][3] == -1.0
assert abs(result["map"] - (51 * 0.5 / 101 + 0.7) / 2) < 1e-12
