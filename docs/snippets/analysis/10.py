from torchvision.models.resnet import BasicBlock, Bottleneck

bottleneck = summary(Bottleneck(256, 64), (256, 56, 56))
basic = summary(BasicBlock(256, 256), (256, 56, 56))
print(bottleneck.total_params, basic.total_params, bottleneck.total_macs, basic.total_macs)
assert bottleneck.total_params - 2 * (64 + 64 + 256) == 256 * 64 + 64 * 64 * 9 + 64 * 256
assert basic.total_params > 16 * bottleneck.total_params
assert bottleneck.receptive_field.size == (3, 3) and basic.receptive_field.size == (5, 5)
