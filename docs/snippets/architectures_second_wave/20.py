from collections import OrderedDict

from cnnlab.detection import FeaturePyramidNetwork, resnet_fpn_backbone

with torch.device("meta"):
    backbone = resnet_fpn_backbone("resnet50")
    pyramid = backbone(torch.empty(1, 3, 224, 224))
for name, level in pyramid.items():
    print(name, tuple(level.shape))  # strides 4, 8, 16, 32 and the extra "pool" level

torch.manual_seed(0)
fpn = FeaturePyramidNetwork([4, 8], 5, extra_blocks=None)
c4, c5 = torch.randn(1, 4, 8, 8), torch.randn(1, 8, 4, 4)
out = fpn(OrderedDict([("c4", c4), ("c5", c5)]))
top_down = F.interpolate(fpn.inner_blocks[1](c5), scale_factor=2, mode="nearest")
assert torch.allclose(out["c4"], fpn.layer_blocks[0](fpn.inner_blocks[0](c4) + top_down))
