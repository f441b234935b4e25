C = 64
three_3x3 = nn.Sequential(*[nn.Conv2d(C, C, 3, bias=False) for _ in range(3)])
one_7x7 = nn.Conv2d(C, C, 7, bias=False)
assert params(three_3x3) == 27 * C * C and params(one_7x7) == 49 * C * C

# The receptive field, measured: the gradient of one output pixel of the stack reaches
# exactly a 7x7 window of the input.
x = torch.randn(1, C, 15, 15, requires_grad=True)
three_3x3(x)[0, 0, 4, 4].backward()
rows, cols = x.grad[0].abs().sum(0).nonzero(as_tuple=True)
window = (int(rows.max() - rows.min()) + 1, int(cols.max() - cols.min()) + 1)
print("receptive field of three 3x3 layers:", window)
assert window == (7, 7)
