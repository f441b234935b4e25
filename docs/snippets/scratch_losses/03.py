mse = scratch.MSELoss()
print(mse(np.array([1.0, 2.0]), np.array([0.0, 4.0])))   # (1 + 4) / 2 = 2.5
print(mse.backward())                                    # 2 (x - t) / 2 = [ 1. -2.]
