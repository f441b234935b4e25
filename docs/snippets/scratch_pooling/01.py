import numpy as np
from cnnlab import scratch

pool = scratch.AvgPool2d(2)
x = np.arange(16.0).reshape(1, 1, 4, 4)
print(pool(x)[0, 0])          # [[ 2.5  4.5] [10.5 12.5]]
dy = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
dx = pool.backward(dy)
print(dx[0, 0])
assert dx.sum() == dy.sum()                       # the gradient sum is preserved
assert np.all(dx[0, 0, :2, :2] == 0.25)           # 1 split into 4 equal parts
