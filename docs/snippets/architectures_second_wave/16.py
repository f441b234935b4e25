atrous = nn.Conv2d(1, 1, 3, padding=2, dilation=2, bias=False)
holes = torch.zeros(1, 1, 5, 5)
holes[..., ::2, ::2] = atrous.weight.detach()
x = torch.randn(1, 1, 9, 9)
assert torch.allclose(atrous(x), F.conv2d(x, holes, padding=2), atol=1e-6)

report = summary(build("deeplabv3_resnet50"), (3, 224, 224))
for path in ("backbone.layer2", "backbone.layer3", "backbone.layer4", "classifier.0.convs.3"):
    row = report[path]
    print(f"{path}: {row.output_shape[-1]}x{row.output_shape[-1]} map, jump {row.rf_jump[0]}, "
          f"field {row.rf_size[0]}")
