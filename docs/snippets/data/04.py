from cnnlab.data.transforms import mixup_cutmix

mix = mixup_cutmix(num_classes=10, mixup=0.2, cutmix=1.0)
images, soft = mix(torch.rand(8, 1, 28, 28), torch.arange(8))
assert soft.shape == (8, 10) and torch.allclose(soft.sum(1), torch.ones(8))
loss = torch.nn.CrossEntropyLoss()(torch.randn(8, 10), soft)
