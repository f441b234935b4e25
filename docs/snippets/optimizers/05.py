def reddi(amsgrad, steps=3000):
    x = Parameter(np.array([0.0]))
    adam = optim.Adam([x], lr=0.5, betas=(0.0, 1 / (1 + 3**2)), amsgrad=amsgrad)
    for t in range(1, steps + 1):
        adam.param_groups[0]["lr"] = 0.5 / np.sqrt(t)
        x.grad = np.array([3.0 if t % 3 == 1 else -1.0])
        adam.step()
        np.clip(x.data, -1, 1, out=x.data)  # projection onto [-1, 1]
    return x.data[0]

print("Adam ends at", reddi(False), "| AMSGrad ends at", reddi(True))
assert reddi(False) > 0.99 and reddi(True) < -0.99
