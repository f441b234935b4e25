from cnnlab.train import ensemble

Trainer(
    TrainConfig(epochs=1, batch_size=256, seed=1, device="cpu", out="runs/eval-demo-2"),
    console=Console(file=io.StringIO()),
).fit()
members = [run, load_trained("runs/eval-demo-2")]
combined = ensemble(members)
for member in combined.members:
    print(member.run.describe(), member.report.metrics["accuracy"])
print("ensemble", combined.report.metrics["accuracy"])
assert combined.probabilities.shape == (360, 10)
