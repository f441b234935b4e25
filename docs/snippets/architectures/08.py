from cnnlab.models.resnet import BasicBlock
from cnnlab.models.resnetv2 import PreActBasicBlock

x = torch.randn(1, 8, 4, 4)
v2 = PreActBasicBlock(8, 8).eval()
nn.init.zeros_(v2.conv2.weight)
v1 = BasicBlock(8, 8).eval()
nn.init.zeros_(v1.bn2.weight)
nn.init.zeros_(v1.bn2.bias)
assert torch.equal(v2(x), x)
assert torch.equal(v1(x), torch.relu(x))
print("resnetv2_50:", f"{params(build('resnetv2_50')) / 1e6:.2f}M parameters")
