import tempfile
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from rich.console import Console

from cnnlab.compress import fold_bn, load_run
from cnnlab.scratch import quant
from cnnlab.train import TrainConfig, Trainer

with tempfile.TemporaryDirectory() as folder:   # a short digits run (2 epochs)
    config = TrainConfig(epochs=2, batch_size=64, device="cpu", out=folder)
    Trainer(config, console=Console(quiet=True)).fit()
    run = load_run(folder)                        # config, data and best.pt, rebuilt
w = fold_bn(run.model).features[3].weight.detach().numpy()      # 32 x 32 x 3 x 3

qp = quant.choose_qparams(w, symmetric=True, per_channel_axis=0)
q = quant.quantize(w, qp.scale, qp.zero_point, axis=0)
back = quant.dequantize(q, qp.scale, qp.zero_point, axis=0)
scale = qp.scale.reshape(-1, 1, 1, 1)
assert (np.abs(back - w) <= scale / 2 + 1e-6).all()
c = int(np.argmax(qp.scale))                      # the channel with the widest range
fig = Figure(figsize=(11, 7.5), layout="constrained")
(hist_w, hist_q), (stairs, errors) = fig.subplots(2, 2)
hist_w.hist(w.ravel(), bins=200)
hist_w.set_title(f"float32 weights: all {w.size:,} of features.3 (BN folded)")
hist_q.bar(np.arange(-128, 128), np.bincount(q.ravel().astype(int) + 128, minlength=256))
hist_q.set_title("as int8: q = round(w / its channel's scale), 256 levels")
near = np.abs(w[c].ravel()) < 12 * qp.scale[c]    # zoom on the grid near zero
stairs.plot(w[c].ravel()[near], back[c].ravel()[near], ".", ms=4)
grid = np.arange(-12, 13) * qp.scale[c]
stairs.hlines(grid, grid - qp.scale[c] / 2, grid + qp.scale[c] / 2, color="k", lw=0.6)
stairs.set(xlabel="float weight", ylabel="dequantised (q - z) * scale",
           title=f"channel {c} near 0: each weight moves to the nearest step")
rel = ((back - w) / scale).ravel()
errors.hist(rel, bins=np.linspace(-0.6, 0.6, 61))
errors.set(xlabel="(dequantised - float) / scale",
           title="rounding error over all weights: within half a step")
Path("img").mkdir(exist_ok=True)
fig.savefig("img/quant_histogram.png", dpi=110)
