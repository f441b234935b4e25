"""Segmentation: a class per pixel, per-pixel cross-entropy, pixel accuracy and mean IoU.

The loss is ``nn.CrossEntropyLoss(ignore_index=255)`` over every labelled pixel of the batch
(pixels marked 255 -- crop padding, VOC's object borders -- count in neither loss nor scores).
A model that returns torchvision's dict (DeepLab or FCN with ``aux_loss``) is trained on
``out + 0.5 * aux``, torchvision's reference weighting; its ``"out"`` is what is scored. A
model whose output is smaller than its input (U-Net with valid convolutions: 572 -> 388) is
compared with the centre of the mask, the pixels its output covers.

Validation counts a confusion matrix on the device (:class:`~cnnlab.metrics.SegmentationMeter`):
``val_pixel_acc`` and ``val_miou`` (the mean over classes present in the masks or the
predictions). Each epoch also writes ``predictions.png``: image, true mask and predicted mask of
a few validation images.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from cnnlab.core.files import atomic_write
from cnnlab.data.transforms.presets import IGNORE_INDEX
from cnnlab.metrics import SegmentationMeter
from cnnlab.train.segmentation_figures import mask_png, predictions_figure
from cnnlab.train.tasks.base import EvalReport, Reduce, Task

__all__ = ["AUX_WEIGHT", "Segmentation", "center_crop_target"]

AUX_WEIGHT = 0.5  # torchvision's references/segmentation: loss = out + 0.5 * aux
SHOWN = 4  # validation images in predictions.png


def center_crop_target(target: Tensor, like: Tensor) -> Tensor:
    """The centre of ``target`` (N, H, W) of the spatial size of ``like`` (N, C, h, w).

    Shape:
        target (N, H, W) -> (N, h, w), h <= H, w <= W
    """
    h, w = like.shape[-2:]
    if target.shape[-2:] == (h, w):
        return target
    top, left = (target.shape[-2] - h) // 2, (target.shape[-1] - w) // 2
    if top < 0 or left < 0:
        raise ValueError(
            f"the model's output ({h}x{w}) is larger than the mask "
            f"({target.shape[-2]}x{target.shape[-1]})"
        )
    return target[..., top : top + h, left : left + w]


def _split(outputs: Any) -> tuple[Tensor, Tensor | None]:
    if isinstance(outputs, dict):
        return outputs["out"], outputs.get("aux")
    return outputs, None


class Segmentation(Task):
    """A class per pixel: cross-entropy with ignore index 255, pixel accuracy, mean IoU."""

    name: ClassVar[str] = "segmentation"
    scores: ClassVar[dict[str, str]] = {"pixel_acc": "max", "miou": "max"}
    default_monitor: ClassVar[str] = "val_miou"
    model_task: ClassVar[str] = "segmentation"
    # A small U-Net on 32x32 digit scenes, random crops and U-Net's elastic deformation;
    # measured in docs/segmentation_training.md: val mean IoU 0.606 after the 10 epochs in
    # 364 s of CPU time (8 epochs: 0.581; batch 32: 0.440; 4 epochs at 3e-3: 0.156).
    recipe: ClassVar[dict[str, Any]] = {
        "model": "unet_small",
        "dataset": "scenes",
        "image_size": 32,
        "epochs": 10,
        "batch_size": 16,
        "lr": 1e-2,
        "scheduler": "cosine",
        "augment": "crop",
        "elastic": 2.0,
    }

    def __init__(self, data: Any, *, label_smoothing: float = 0.0) -> None:
        super().__init__(data, label_smoothing=label_smoothing)
        self.num_classes = int(data.num_classes)
        ignore = getattr(data, "ignore_index", None)
        self.ignore_index = IGNORE_INDEX if ignore is None else int(ignore)
        self.criterion = nn.CrossEntropyLoss(
            ignore_index=self.ignore_index, label_smoothing=label_smoothing
        )

    def loss(self, model: nn.Module, inputs: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
        out, aux = _split(model(inputs))
        loss = self.criterion(out, center_crop_target(targets, out))
        if aux is not None:
            loss = loss + AUX_WEIGHT * self.criterion(aux, center_crop_target(targets, aux))
        return loss, out

    def meter(self) -> SegmentationMeter:
        return SegmentationMeter(self.num_classes, self.ignore_index)

    def update(self, meter: SegmentationMeter, outputs: Tensor, targets: Tensor) -> None:
        # NaN scores of a diverged model are refused by the loss check after the epoch.
        out = torch.nan_to_num(outputs.detach().float())
        meter.update(out.argmax(1), center_crop_target(targets, out))

    def sync(self, meter: SegmentationMeter, reduce: Reduce) -> None:
        confusion = meter.confusion
        if confusion is None:  # a process without validation pixels contributes zeros
            c = self.num_classes
            confusion = torch.zeros(c, c, dtype=torch.int64)
        meter.confusion = reduce(confusion)

    def values(self, meter: SegmentationMeter) -> dict[str, float]:
        scores = meter.compute()
        return {"pixel_acc": scores["pixel_accuracy"], "miou": scores["mean_iou"]}

    # ------------------------------------------------------------------ figures
    def write_figures(self, model: nn.Module, run_dir: Path, device: torch.device) -> None:
        """``predictions.png``: the first validation images, their masks and the predictions."""
        val = self.data.val
        n = min(SHOWN, len(val))
        if n == 0:
            return
        images, masks = zip(*(val[i] for i in range(n)), strict=True)
        x = torch.stack(images)
        was_training = model.training
        model.eval()
        with torch.no_grad():
            out, _ = _split(model(x.to(device)))
        model.train(was_training)
        pred = out.argmax(1).cpu()
        truth = center_crop_target(torch.stack(masks), out)
        fig = predictions_figure(x, truth, pred, self.data.classes or None)
        atomic_write(run_dir / "predictions.png", lambda f: fig.savefig(f, format="png", dpi=90))

    # ------------------------------------------------------------------ eval and predict
    def collect(self, model: nn.Module, loader: Any, device: torch.device) -> tuple[Tensor, Tensor]:
        """Predicted classes (N, h, w) uint8/int64 and the masks cropped alike, on the CPU.

        The per-pixel scores of a whole dataset would be ``C`` times larger; the arg-max is what
        every segmentation score needs.
        """
        preds, targets = [], []
        model.eval()
        with torch.no_grad():
            for batch in loader:
                inputs, target = self.to_device(batch, device)
                out, _ = _split(model(inputs))
                preds.append(out.argmax(1).cpu())
                targets.append(center_crop_target(target, out).cpu())
        return torch.cat(preds), torch.cat(targets)

    def report(self, outputs: Tensor, targets: Tensor, class_names: list[str]) -> EvalReport:
        """``metrics.json``: pixel accuracy, mean IoU and per-class IoU (by class name, NaN as
        None for classes in neither masks nor predictions). ``outputs`` are scores (N, C, H, W)
        or predicted classes (N, H, W)."""
        meter = self.meter()
        meter.update(outputs, targets)
        scores = meter.compute()
        names = class_names or [str(i) for i in range(self.num_classes)]
        iou = {
            name: (None if np.isnan(v) else v) for name, v in zip(names, scores["iou"], strict=True)
        }
        metrics = {
            "pixel_accuracy": scores["pixel_accuracy"],
            "mean_iou": scores["mean_iou"],
            "iou": iou,
            "ignore_index": self.ignore_index,
        }
        width = max([len("class"), *(len(n) for n in names)])
        lines = [f"{'class':<{width}}     IoU"]
        for name, v in iou.items():
            lines.append(f"{name:<{width}}  " + ("   n/a" if v is None else f"{v:6.4f}"))
        lines.append(
            f"pixel accuracy {scores['pixel_accuracy']:.4f}, mean IoU {scores['mean_iou']:.4f} "
            f"on {int(targets.shape[0])} images"
        )
        return EvalReport(metrics=metrics, table=lines)

    def predict(self, outputs: Tensor, class_names: list[str], top_k: int) -> list[dict[str, Any]]:
        """Per image, the classes found and the share of pixels of each (largest first, at most
        ``top_k``); the masks themselves are :meth:`prediction_files`."""
        pred = outputs.argmax(1) if outputs.is_floating_point() else outputs
        results = []
        for mask in pred:
            counts = torch.bincount(mask.flatten().long(), minlength=self.num_classes)
            share = counts.double() / max(mask.numel(), 1)
            order = [int(i) for i in torch.argsort(-share, stable=True) if share[i] > 0]
            results.append(
                {
                    "size": list(mask.shape),
                    "classes": [
                        {"class": class_names[i], "index": i, "fraction": float(share[i])}
                        for i in order[:top_k]
                    ],
                }
            )
        return results

    def prediction_files(
        self, outputs: Tensor, names: list[str], class_names: list[str]
    ) -> dict[str, Any]:
        """``NAME.png`` per image: the predicted class of each pixel as an 8-bit index PNG (what
        ``segfolder:PATH`` reads as a mask)."""
        pred = outputs.argmax(1) if outputs.is_floating_point() else outputs
        return {
            f"{Path(name).stem}.png": mask_png(mask) for name, mask in zip(names, pred, strict=True)
        }
