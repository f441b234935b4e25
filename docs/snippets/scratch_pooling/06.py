# (#84) a lone strong response: max pooling keeps it, average pooling dilutes it by the window
peak = np.zeros((1, 1, 4, 4))
peak[0, 0, 1, 2] = 1.0
print(scratch.MaxPool2d(2)(peak)[0, 0], scratch.AvgPool2d(2)(peak)[0, 0])
assert scratch.MaxPool2d(2)(peak).max() == 1.0 and scratch.AvgPool2d(2)(peak).max() == 0.25
# ... and moving it by one pixel inside its window changes nothing after max pooling
moved = np.roll(peak, -1, axis=2)                     # row 1 -> row 0: same 2x2 window
assert np.array_equal(scratch.MaxPool2d(2)(moved), scratch.MaxPool2d(2)(peak))

# a global-average-pooling head: no parameters, any input size, blind to where the object is
feat = np.random.default_rng(1).standard_normal((1, 512, 7, 7))
gap = scratch.AdaptiveAvgPool2d(1)
assert np.allclose(gap(feat), gap(np.roll(feat, (3, 2), axis=(2, 3))))
fc_head = 512 * 7 * 7 * 1000 + 1000                     # flatten + FC to 1000 classes (VGG-style)
gap_head = 512 * 1000 + 1000                            # GAP + FC (ResNet)
print(f"head parameters: flatten+FC {fc_head:,}, GAP+FC {gap_head:,}")   # 25,089,000 vs 513,000
assert fc_head == 49 * (gap_head - 1000) + 1000
