from cnnlab.metrics import best_thresholds, multilabel_scores

scores = torch.tensor([[0.9, 0.30], [0.8, 0.35], [0.2, 0.10], [0.6, 0.05]])
labels = torch.tensor([[1, 1], [1, 1], [0, 0], [0, 0]])
at_half = multilabel_scores(scores, labels)  # 0.5 everywhere: class 1 is never predicted
tuned = best_thresholds(scores, labels)
best = multilabel_scores(scores, labels, thresholds=tuned)
print("thresholds", tuned.tolist(), "macro F1", at_half["f1_macro"], "->", best["f1_macro"])
assert at_half["map"] == best["map"] == 1.0  # the ranking was perfect all along
assert best["f1_macro"] == 1.0 > at_half["f1_macro"]
