with torch.device("meta"):
    resnet152 = torchvision.models.resnet152()
small, huge = summary(resnet152, (3, 224, 224)), summary(resnet152, (3, 4096, 4096))
print(f"{small.total_macs / 1e9:.2f} G vs {huge.total_macs / 1e9:.0f} G MACs; "
      f"activations {huge.total_activation_bytes / 2**30:.0f} GiB, never allocated")
assert small.total_params == huge.total_params
assert round(small.total_macs / 1e9, 2) == 11.51  # torchvision's published 11.51 GFLOPS
