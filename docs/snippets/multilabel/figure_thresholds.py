# Each class's F1 against the threshold, for the two classes of the example above: 0.5 (grey)
# never predicts class 1, while best_thresholds (dashed) picks each class's own best cut.
# The F1 values are multilabel_scores' own. Run from docs/ to rewrite img/multilabel_thresholds.png.
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from cnnlab.metrics import best_thresholds, multilabel_scores

class_scores = torch.tensor([[0.9, 0.30], [0.8, 0.35], [0.2, 0.10], [0.6, 0.05]])
class_labels = torch.tensor([[1, 1], [1, 1], [0, 0], [0, 0]])
cuts = np.linspace(0.0, 1.0, 201)
f1_per_cut = np.array(
    [multilabel_scores(class_scores, class_labels, thresholds=torch.tensor([c, c]))["f1"] for c in cuts]
)
chosen = best_thresholds(class_scores, class_labels)
fig = Figure(figsize=(6.5, 3.2))
ax = fig.subplots()
for k, colour in enumerate(("tab:blue", "tab:orange")):
    ax.plot(cuts, f1_per_cut[:, k], color=colour, label=f"class {k}")
    ax.axvline(float(chosen[k]), color=colour, linestyle="--", label=f"class {k}: best_thresholds {float(chosen[k]):.2f}")
ax.axvline(0.5, color="grey", linewidth=2, alpha=0.5, label="0.5 for every class")
ax.set(xlabel="threshold", ylabel="F1 of the class", title="one threshold per class, chosen on validation")
ax.legend(fontsize=7)
ax.grid(alpha=0.3)
fig.tight_layout()
Path("img").mkdir(exist_ok=True)
fig.savefig("img/multilabel_thresholds.png", dpi=90)
