# (#110) what int8 buys and costs on a weight matrix: 4x fewer bytes, each value off by at most
# half a step; and why a per-channel scale helps when one channel's weights are 100x smaller
w = np.random.default_rng(0).normal(size=(64, 576)).astype(np.float32)
w[0] *= 0.01                                                     # one filter of tiny weights
qp = quant.choose_qparams(w, symmetric=True, dtype="int8")
q = quant.quantize(w, qp.scale, qp.zero_point, "int8")
err = np.abs(quant.dequantize(q, qp.scale, qp.zero_point) - w)
print(f"{w.nbytes} -> {q.nbytes} bytes, max error {err.max():.4f} <= step / 2 = {qp.scale / 2:.4f}")
assert q.nbytes * 4 == w.nbytes and err.max() <= qp.scale / 2 + 1e-7
levels_tensor = np.unique(q[0]).size                            # one scale for the whole tensor
per_channel = [quant.choose_qparams(row, symmetric=True, dtype="int8") for row in w[:1]]
q0 = quant.quantize(w[0], per_channel[0].scale, per_channel[0].zero_point, "int8")
print("levels used by the tiny filter: per tensor", levels_tensor, "per channel", np.unique(q0).size)
assert np.unique(q0).size > 20 * levels_tensor
