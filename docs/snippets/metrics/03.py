g = torch.Generator().manual_seed(0)
targets = torch.randint(0, 10, (1000,), generator=g)
logits = torch.randn(1000, 10, generator=g)
logits[torch.arange(1000), targets] += 1.0  # a weak classifier
meter = ClassificationMeter(10)
for start in range(0, 1000, 100):
    meter.update(logits[start : start + 100], targets[start : start + 100])
result = meter.compute()
print(f"accuracy {result['accuracy']:.3f}, top-5 {result['top5']:.3f}")  # 0.320, 0.816
assert result == classification_scores(logits, targets, 10)
