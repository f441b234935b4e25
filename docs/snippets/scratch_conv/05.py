# Q1 (#8) the input gradient is a "full" convolution of dY with the flipped, transposed filters
conv1 = scratch.Conv2d(2, 3, kernel_size=3, padding=1, bias=False, rng=1)
x1 = rng.standard_normal((1, 2, 6, 6))
dy1 = rng.standard_normal(conv1(x1).shape)
flipped = conv1.weight.data[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C_in, C_out, 3, 3)
full = conv2d_naive(dy1, flipped.copy(), None, Window2d.symmetric((3, 3), (1, 1), (1, 1), (1, 1)))
assert np.allclose(conv1.backward(dy1), full)

# Q2 (#90) the notes' 4x4 -> 2x2 -> 4x4 example: convolution is a matrix C, transposed conv is C^T
c = scratch.Conv2d(1, 1, 3, stride=1, bias=False, rng=2)        # 4x4 -> 2x2, no padding
C = np.stack([c(e.reshape(1, 1, 4, 4)).ravel() for e in np.eye(16)], axis=1)   # (4, 16)
t = scratch.ConvTranspose2d(1, 1, 3, bias=False)
t.weight.data[:] = c.weight.data
z = rng.standard_normal((1, 1, 2, 2))
assert C.shape == (4, 16) and np.allclose(t(z).ravel(), C.T @ z.ravel())     # 2x2 -> 4x4

# ... and a stride-2 transposed conv = insert zeros between the inputs, then a plain conv
t2 = scratch.ConvTranspose2d(1, 1, 3, stride=2, bias=False)
t2.weight.data[:] = c.weight.data
spread = np.zeros((1, 1, 3, 3))
spread[..., ::2, ::2] = z                                         # 2x2 -> 3x3 with a zero between
zero_inserted = conv2d_naive(
    spread, c.weight.data[:, :, ::-1, ::-1].copy(), None, Window2d.symmetric((3, 3), (1, 1), (2, 2), (1, 1))
)
assert np.allclose(t2(z), zero_inserted)                          # (1, 1, 5, 5)

# Q3 (#81, #89) the notes' dilated 3x3 kernels a/b/c (d = 1, 2, 4), stacked: fields 3, 7, 15
from cnnlab.core import stack_fields

fields = stack_fields([(3, 1, 1, 1), (3, 1, 2, 2), (3, 1, 4, 4)])
print([f.size for f in fields])                                   # [3, 7, 15]
assert [f.size for f in fields] == [3, 7, 15]
assert all(scratch.Conv2d(1, 1, 3, dilation=d).weight.data.size == 9 for d in (1, 2, 4))

# Q4 (#114) 'same' padding: an odd kernel pads (k - 1) / 2 on both sides, an even one cannot
for k in (3, 5, 2, 4):
    print(k, "symmetric" if (k - 1) % 2 == 0 else f"pads {(k - 1) // 2} before, {k // 2} after")
