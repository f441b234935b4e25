# The figures of "training a detector": anchors, focal loss against cross-entropy, RPN proposals
# (an untrained Faster R-CNN, seed 0) and a trained RetinaNet's detections. Run from docs/ to
# rewrite img/detection_{anchors,focal_loss,proposals,detections}.png. The detections are those
# of the run folder in $DETECTION_RUN (its best.pt); without it the recipe is trained first
# (`cnnlab train --task detection`, ~15 minutes on 2 cores). QUICK=1 skips the detections.
import os
import tempfile
from pathlib import Path

import torch

from cnnlab.data.scenes import make_scenes
from cnnlab.demos.detectors import (
    anchors_figure,
    detections_figure,
    focal_loss_figure,
    proposals_figure,
    rpn_proposals,
    save_figure,
)
from cnnlab.models import create_model

quick = bool(os.environ.get("QUICK"))
Path("img").mkdir(exist_ok=True)
scenes = make_scenes(8, image_size=128, split="val")  # the first validation scenes of a run

save_figure(anchors_figure(scenes.images[0], scenes.boxes[0]), "img/detection_anchors.png")
save_figure(focal_loss_figure(), "img/detection_focal_loss.png")

torch.manual_seed(0)
frcnn = create_model("fasterrcnn_resnet18_fpn", num_classes=11, in_chans=1).eval()
before, _ = rpn_proposals(frcnn, scenes.images[0], nms=False)
after, _ = rpn_proposals(frcnn, scenes.images[0], nms=True)
print(f"RPN proposals: {len(before)} before NMS, {len(after)} after")
fig = proposals_figure(frcnn, scenes.images[0], scenes.boxes[0], shown=150)
save_figure(fig, "img/detection_proposals.png")

if not quick:
    from cnnlab.train import Trainer, load_trained
    from cnnlab.train.recipes import recipe

    run = os.environ.get("DETECTION_RUN")
    if not run:
        run = str(Path(tempfile.mkdtemp()) / "detection")
        Trainer(recipe("detection", dataset="scenes", out=run)).fit()
    trained = load_trained(run)
    targets = [{"boxes": b, "labels": y} for b, y in zip(scenes.boxes, scenes.labels, strict=True)]
    images = trained.preprocess.apply(scenes.images)  # standardised as the run's data were
    with torch.no_grad():
        fig = detections_figure(trained.model, list(images), targets, trained.classes)
    save_figure(fig, "img/detection_detections.png")
    print(f"detections of {run} (epoch {trained.epoch}) drawn")
