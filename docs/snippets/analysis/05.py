import torchvision

with torch.device("meta"):  # the architecture only: no memory, no initialisation time
    vgg16 = torchvision.models.vgg16()
vgg = summary(vgg16, (3, 224, 224))
fc6 = vgg["classifier.0"]
print(f"{vgg.total_params:,} parameters, fc6 {fc6.params:,} ({fc6.params / vgg.total_params:.0%})")
assert vgg.total_params == 138_357_544
assert fc6.params == 25088 * 4096 + 4096 and fc6.params / vgg.total_params > 0.7
assert round(vgg.total_macs / 1e9, 2) == 15.47  # torchvision's published 15.47 GFLOPS
