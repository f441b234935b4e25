# Training curves of a real short run, `cnnlab train --dataset digits --epochs 5` (the small CNN,
# seed 0): the run's own curves.png (loss, accuracy and learning rate per epoch, train and
# validation), copied to img/training_curves.png. Run from docs/ to rewrite it; with QUICK=1 the
# run has 1 epoch and the figure goes to a temporary folder instead.
import os
import shutil
import tempfile
from pathlib import Path

from cnnlab.train import TrainConfig, Trainer

quick = os.environ.get("QUICK", "") not in ("", "0")
with tempfile.TemporaryDirectory() as scratch_dir:
    run = Path(scratch_dir) / "run"
    Trainer(TrainConfig(dataset="digits", epochs=1 if quick else 5, out=str(run))).fit()
    target = Path(scratch_dir) / "training_curves.png" if quick else Path("img/training_curves.png")
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(run / "curves.png", target)
