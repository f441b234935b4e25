import numpy as np
from cnnlab.scratch import init

w = init.kaiming_normal_(np.zeros((128, 64, 3, 3)), nonlinearity="relu", rng=0)
print(f"std {w.std():.5f}, formula sqrt(2 / 576) = {np.sqrt(2 / 576):.5f}")
assert abs(w.std() / np.sqrt(2 / 576) - 1) < 0.02
print(init.fan_in_and_fan_out((128, 64, 3, 3)), init.calculate_gain("tanh"))
