dense = scratch.Conv2d(256, 256, 3, bias=False)
grouped = scratch.Conv2d(256, 256, 3, groups=8, bias=False)
print(dense.weight.data.size, grouped.weight.data.size)     # 589824 73728
depthwise = scratch.Conv2d(16, 16, 3, padding=1, groups=16, bias=False)
pointwise = scratch.Conv2d(16, 32, 1, bias=False)
assert depthwise.weight.data.size + pointwise.weight.data.size == 656
dilated = scratch.Conv2d(1, 1, 3, dilation=2)
print(dilated(np.zeros((1, 1, 9, 9))).shape)                  # (1, 1, 5, 5): the kernel spans 5
