import torch
import torch.nn.functional as TF

rng = np.random.default_rng(0)
x = rng.standard_normal((2, 3, 7, 7))

def against_torch(ours, reference):
    """Forward and dL/dx of our layer vs torch autograd in float64, for a random dL/dy."""
    y = ours(x)
    dy = rng.standard_normal(y.shape)
    xt = torch.tensor(x, requires_grad=True)
    yt = reference(xt)
    yt.backward(torch.tensor(dy))
    assert np.allclose(y, yt.detach().numpy()) and np.allclose(ours.backward(dy), xt.grad.numpy())
    return dy, xt.grad.numpy()

# max pooling (#13, #85): overlapping windows (3x3, stride 2, padding 1), the indices included
mp = scratch.MaxPool2d(3, stride=2, padding=1)
dy, dx = against_torch(mp, lambda t: TF.max_pool2d(t, 3, 2, 1))
_, indices = TF.max_pool2d(torch.tensor(x), 3, 2, 1, return_indices=True)
assert np.array_equal(mp.indices, indices.numpy())
assert np.isclose(dx.sum(), dy.sum())                  # routed, never lost: the sum is kept

# average pooling (#12): with padding counted (torch's default) and not
for include in (True, False):
    against_torch(scratch.AvgPool2d(3, 2, 1, count_include_pad=include),
                  lambda t: TF.avg_pool2d(t, 3, 2, 1, count_include_pad=include))

# adaptive average pooling with uneven bins (7 -> 3) and global average pooling
for size in (3, 1):
    against_torch(scratch.AdaptiveAvgPool2d(size), lambda t: TF.adaptive_avg_pool2d(t, size))
print("max, average and adaptive pooling: forward, indices and backward equal torch's in float64")
