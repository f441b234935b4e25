import numpy as np
from cnnlab.scratch import quant

x = np.array([-1.0, -0.3, 0.0, 0.26, 0.5, 2.0], dtype=np.float32)
qp = quant.choose_qparams(x, symmetric=False, dtype="uint8")   # affine: [-1, 2] -> [0, 255]
q = quant.quantize(x, qp.scale, qp.zero_point, "uint8")
back = quant.dequantize(q, qp.scale, qp.zero_point)
print(float(qp.scale), int(qp.zero_point), q, back)
assert int(q[2]) == int(qp.zero_point) and back[2] == 0.0      # zero is exact
assert np.abs(back - x).max() <= qp.scale / 2 + 1e-7            # half a step at most
