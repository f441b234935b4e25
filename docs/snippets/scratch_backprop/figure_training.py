# The NumPy-only CNN learning by its own backward: cnnlab.scratch.tiny_cnn on the digits, scratch
# SGD (momentum 0.9), loss and accuracy per epoch on the training and validation images. With
# QUICK=1 it trains 1 epoch. Run from docs/ to rewrite img/scratch_training.png.
import os
from pathlib import Path

from matplotlib.figure import Figure

from cnnlab import scratch
from cnnlab.data.arrays import load_arrays
from cnnlab.scratch.optim import SGD
from cnnlab.scratch.tiny_cnn import tiny_cnn
from cnnlab.scratch.training import fit

digits = load_arrays("digits")
numpy_net = tiny_cnn(width=8, rng=0)
numpy_history = fit(
    numpy_net, scratch.CrossEntropyLoss(), SGD(numpy_net.parameters(), lr=0.05, momentum=0.9),
    (digits.x_train, digits.y_train), (digits.x_val, digits.y_val),
    epochs=1 if os.environ.get("QUICK", "") not in ("", "0") else 6, batch_size=64,
)
done = numpy_history.epochs
fig = Figure(figsize=(8, 3.2))
loss_ax, acc_ax = fig.subplots(1, 2)
ticks = [e.epoch for e in done]
loss_ax.plot(ticks, [e.train_loss for e in done], "o-", label="train")
loss_ax.plot(ticks, [e.test_loss for e in done], "s-", label="validation")
acc_ax.plot(ticks, [e.train_acc for e in done], "o-", label="train")
acc_ax.plot(ticks, [e.test_acc for e in done], "s-", label="validation")
loss_ax.set(xlabel="epoch", ylabel="cross-entropy", title="loss (NumPy forward)")
acc_ax.set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(0, 1))
for ax in (loss_ax, acc_ax):
    ax.grid(alpha=0.3)
    ax.legend()
fig.suptitle("tiny_cnn trained by cnnlab.scratch's backward alone (digits, SGD momentum 0.9)")
fig.tight_layout()
Path("img").mkdir(exist_ok=True)
fig.savefig("img/scratch_training.png", dpi=90)
