with torch.device("meta"):
    resnet50 = torchvision.models.resnet50()
train = summary(resnet50, (3, 224, 224), mode="train")
print(f"{train.total_macs / 1e9:.2f} G MACs forward, {train.total_training_macs / 1e9:.2f} G per "
      f"training step and image")
assert 2.9 < train.total_training_macs / train.total_macs < 3.0
for batch in (32, 256):
    step = train.memory("adam", batch_size=batch)
    print(f"batch {batch}: " + "; ".join(step.lines()))
small, large = train.memory("adam", 32), train.memory("adam", 256)
assert small.grads_bytes == small.params_bytes == 4 * 25_557_032
assert small.optimizer_state_bytes == 2 * small.params_bytes  # Adam: two moments per weight
assert large.params_bytes == small.params_bytes  # the weights do not care about the batch
assert small.saved_activation_bytes / small.total_bytes > 0.85  # activations dominate already
assert 7.9 < large.saved_activation_bytes / small.saved_activation_bytes <= 8
