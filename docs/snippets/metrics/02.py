bird = scores["per_class"]["bird"]
assert bird == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
four = classification_scores(logits.argmax(1), targets, 4)  # predicted labels also work
assert four["per_class"]["3"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
assert "top5" not in four  # fewer than 5 classes, and labels carry no ranking
