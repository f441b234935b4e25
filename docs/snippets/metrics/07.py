from cnnlab.metrics import best_thresholds, multilabel_scores

scores = torch.tensor([[0.9, 0.8, 0.1], [0.7, 0.2, 0.3], [0.4, 0.6, 0.2], [0.2, 0.3, 0.35]])
labels = torch.tensor([[1, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
m = multilabel_scores(scores, labels)  # threshold 0.5 for every class
print(m)
assert m["map"] == 1.0  # every class ranks its positives first
assert m["f1"] == [1.0, 1.0, 0.0]  # but class 2's one positive scores 0.35 < 0.5
assert m["hamming_loss"] == 1 / 12 and m["subset_accuracy"] == 3 / 4
