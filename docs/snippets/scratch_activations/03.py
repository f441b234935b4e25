prelu = scratch.PReLU(num_parameters=2, init=0.25)
z = np.array([[-2.0, 3.0], [1.0, -4.0]])
print(prelu(z))                                  # [[-0.5 3.] [1. -1.]]
prelu.backward(np.ones_like(z))
print(prelu.weight.grad)                         # sum of x where x <= 0, per channel: [-2. -4.]
assert np.allclose(prelu.weight.grad, [-2.0, -4.0])
print(scratch.ELU()(np.array([-50.0, 0.0, 2.0])), scratch.SELU()(np.array([-50.0])))
