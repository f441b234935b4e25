# (#118) multi-label = one yes/no question per class: sigmoid + BCE per class, a threshold per
# class, and scores that judge each label; the same labels scored by scikit-learn
import numpy as np
from sklearn.metrics import f1_score, hamming_loss

from cnnlab.scratch import BCEWithLogitsLoss

logits = torch.logit(scores.double())                   # the scores above, as a network's logits
bce = BCEWithLogitsLoss()
loss = bce(logits.numpy(), labels.double().numpy())     # one binary cross-entropy per label
assert np.isclose(loss, torch.nn.functional.binary_cross_entropy(scores.double(), labels.double()))
tuned = torch.as_tensor(best_thresholds(scores, labels))
predicted = (scores >= tuned).int()
assert hamming_loss(labels.numpy(), predicted.numpy()) == 0.0        # each class its threshold
print("F1 macro at 0.5:", f1_score(labels.numpy(), (scores >= 0.5).int().numpy(), average="macro"))
