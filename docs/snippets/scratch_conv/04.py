down = scratch.Conv2d(1, 1, 3, stride=2, padding=1, bias=False, rng=0)
up = scratch.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1, bias=False)
up.weight.data[:] = down.weight.data            # same weights: up is down's backward
img = rng.standard_normal((1, 1, 8, 8))
small = down(img)
restored = up(small)
print(small.shape, restored.shape)              # (1, 1, 4, 4) (1, 1, 8, 8)
assert not np.allclose(restored, img)           # same shape, different values
down.zero_grad()
assert np.allclose(restored, down.backward(small))
