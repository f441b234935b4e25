# (#41) a sigmoid output that is confidently wrong (z = -6, target 1): squared error's gradient
# carries the factor s(1 - s) and all but vanishes; cross-entropy's is s - y and stays large
z = np.array([-6.0])
s = 1 / (1 + np.exp(-z))
sig = scratch.Sigmoid()
mse = scratch.MSELoss()
mse(sig(z), np.ones(1))
grad_mse = sig.backward(mse.backward())                 # 2 (s - 1) s (1 - s)
bce = scratch.BCEWithLogitsLoss()
bce(z, np.ones(1))
grad_ce = bce.backward()                                # s - 1
print(f"dL/dz: squared error {grad_mse[0]:.4f}, cross-entropy {grad_ce[0]:.4f}")
assert np.isclose(grad_ce[0], s[0] - 1) and abs(grad_mse[0]) < abs(grad_ce[0]) / 100

# (#44, #45) the largest derivative of each: sigmoid 1/4, so 10 layers scale a gradient by at most
# 4^-10 ~ 1e-6; ReLU passes it unchanged wherever the unit is active
assert np.isclose(scratch.Sigmoid()(np.zeros(1)) * (1 - scratch.Sigmoid()(np.zeros(1))), 0.25)
print(f"10 sigmoid layers: at most {0.25**10:.1e}; 10 active ReLUs: 1")

# (#46) the variants differ below zero: slope 0.01 (LeakyReLU), ELU -> -alpha, GELU ~ x Phi(x)
neg = np.array([-3.0])
print({type(f).__name__: round(float(f(neg)[0]), 4)
       for f in (scratch.ReLU(), scratch.LeakyReLU(), scratch.ELU(), scratch.GELU())})
