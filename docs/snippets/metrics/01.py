import torch

from cnnlab.metrics import ClassificationMeter, classification_scores, confusion_matrix_figure

targets = torch.tensor([0, 0, 0, 1, 1, 2])
logits = torch.tensor(
    [[3.0, 1, 0], [2, 1, 0], [0, 2, 1], [0, 3, 1], [1, 0, 2], [0, 1, 0.5]]
)  # arg-max: 0, 0, 1, 1, 2, 1
scores = classification_scores(logits, targets, 3, class_names=["cat", "dog", "bird"])
print(scores["confusion_matrix"])  # [[2, 1, 0], [0, 1, 1], [0, 1, 0]]
assert scores["confusion_matrix"] == [[2, 1, 0], [0, 1, 1], [0, 1, 0]]
assert scores["accuracy"] == 0.5
dog = scores["per_class"]["dog"]  # 1 right of 3 called dog; 1 found of 2 dogs
assert (dog["precision"], dog["recall"], dog["f1"], dog["support"]) == (1 / 3, 0.5, 0.4, 2)
