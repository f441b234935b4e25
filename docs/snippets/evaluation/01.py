import io

from rich.console import Console

from cnnlab.train import TrainConfig, Trainer, evaluate, load_trained, read_metrics_csv

config = TrainConfig(epochs=1, batch_size=256, device="cpu", out="runs/eval-demo")
Trainer(config, console=Console(file=io.StringIO())).fit()

run = load_trained("runs/eval-demo", "best")
result = evaluate(run)
metrics = result.report.metrics
print(run.describe(), metrics["accuracy"], metrics["top5"])
val_acc = read_metrics_csv("runs/eval-demo/metrics.csv")[run.epoch - 1].val_acc
assert metrics["accuracy"] == val_acc  # the trainer's validation accuracy of that epoch
assert sum(map(sum, metrics["confusion_matrix"])) == 360  # every validation digit once
