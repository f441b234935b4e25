from cnnlab.layers import SqueezeExcite

# (#61) 50 fully connected ReLU layers at PyTorch's default init: without shortcuts the input
# gradient vanishes; with y = x + F(x) every layer adds the identity to its Jacobian
torch.manual_seed(0)
layers = [nn.Linear(64, 64) for _ in range(50)]


def input_gradient(residual):
    x = torch.randn(16, 64, requires_grad=True)
    h = x
    for layer in layers:
        h = h + torch.relu(layer(h)) if residual else torch.relu(layer(h))
    h.sum().backward()
    return x.grad.norm().item()


plain, res = input_gradient(False), input_gradient(True)
print(f"|dL/dx| plain {plain:.1e}, residual {res:.1e}")
assert plain < 1e-10 < 1 < res

# (#58) no dropout anywhere in ResNet-50: BN regularises, and dropout before BN would shift its
# variance between training (1 / (1 - p) for unit inputs) and test (1)
assert not any(isinstance(m, nn.Dropout) for m in build("resnet50").modules())
u = torch.randn(1_000_000, generator=torch.Generator().manual_seed(0))
print(f"variance after dropout(0.5): train {nn.functional.dropout(u, 0.5).var():.2f}, test 1.00")
assert abs(nn.functional.dropout(u, 0.5).var().item() - 2.0) < 0.02

# (#75) squeeze-and-excitation by its formula: x * sigmoid(W2 relu(W1 mean_hw(x) + b1) + b2)
se = SqueezeExcite(32, reduction=16).double()
x = torch.randn(2, 32, 5, 5, dtype=torch.float64)
z = x.mean((2, 3))                                                   # squeeze: (2, 32)
w1, b1 = se.fc1.weight.flatten(1), se.fc1.bias                      # 32 -> 2
w2, b2 = se.fc2.weight.flatten(1), se.fc2.bias                      # 2 -> 32
s = torch.sigmoid(torch.relu(z @ w1.T + b1) @ w2.T + b2)             # excitation: (2, 32)
assert torch.allclose(se(x), x * s[:, :, None, None])
