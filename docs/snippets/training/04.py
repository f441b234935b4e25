from pathlib import Path

from cnnlab.train import TrainConfig, Trainer, TrainingDiverged

# One SGD step at lr 1e30 leaves finite weights of about 1e29 whose outputs are all NaN.
config = TrainConfig(lr=1e30, optimizer="sgd", batch_size=2000, epochs=3, out="runs/diverged")
try:
    Trainer(config).fit()
except TrainingDiverged as stop:
    print(stop)  # validation loss became nan after epoch 1; ... no checkpoint of this run was saved
assert not Path("runs/diverged/last.pt").exists()
