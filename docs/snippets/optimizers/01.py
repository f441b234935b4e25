from cnnlab.core.optimizers import OPTIMIZERS, state_buffers

print({name: state_buffers(name) for name in OPTIMIZERS})
print(state_buffers("rmsprop", momentum=0.9, centered=True), state_buffers("adabound", amsbound=True))
assert OPTIMIZERS["momentum"].defaults == {"momentum": 0.9}
