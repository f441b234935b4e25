from cnnlab.train import TrainConfig, Trainer

history = Trainer(TrainConfig(epochs=2, out="runs/docs-demo")).fit()
print(history[-1])
assert 0.0 <= history[-1].val_acc <= 1.0
