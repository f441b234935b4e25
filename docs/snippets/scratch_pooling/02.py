x = np.zeros((1, 1, 4, 4))
for count_pad, expected in ((True, 100 / 9), (False, 16.0)):
    pool = scratch.AvgPool2d(3, stride=1, padding=1, count_include_pad=count_pad)
    dx = pool.backward(np.ones_like(pool(x)))
    print(count_pad, round(dx.sum(), 2))    # True 11.11, False 16.0
    assert np.isclose(dx.sum(), expected)
