rng = np.random.default_rng(0)

def input_gradient_norm(act_cls, depth=20, width=64):
    layers = []
    for _ in range(depth):
        lin = scratch.Linear(width, width, rng=rng)
        scratch.init.kaiming_normal_(lin.weight, nonlinearity="relu", rng=rng)
        scratch.init.zeros_(lin.bias)
        layers += [lin, act_cls()]
    net = scratch.Sequential(*layers)
    out = net(rng.standard_normal((32, width)))
    return np.linalg.norm(net.backward(np.ones_like(out) / out.size))

g_sigmoid, g_relu = input_gradient_norm(scratch.Sigmoid), input_gradient_norm(scratch.ReLU)
print(f"sigmoid {g_sigmoid:.2e}, relu {g_relu:.2e}")
assert g_relu > 100 * g_sigmoid
