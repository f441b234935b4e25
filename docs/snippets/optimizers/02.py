import numpy as np
from cnnlab.scratch import Parameter
from cnnlab.scratch import optim

print(sorted(optim.OPTIMIZERS))
w = Parameter(np.array([1.0, -2.0]))
opt = optim.create_optimizer("nesterov", [w], lr=0.1)  # SGD, momentum 0.9, nesterov=True
for _ in range(3):
    w.grad = 2 * w.data  # gradient of |w|^2
    opt.step()
print(w.data, opt.state[w]["momentum_buffer"])
