with torch.device("meta"):
    resnet50 = torchvision.models.resnet50()
res = summary(resnet50, (3, 224, 224))
assert res["layer4"].rf_size == (427, 427) and res["layer4"].rf_jump == (32, 32)
print(res.warnings[0])
