"""Segmentation and multi-label training end to end on tiny digit scenes: metrics.csv columns,
scores against scikit-learn on the saved model's outputs, thresholds, figures, exact resume."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from rich.console import Console
from sklearn.metrics import average_precision_score, confusion_matrix, f1_score
from torch import nn

from cnnlab.data.bundle import LoadOptions
from cnnlab.data.scenes_dataset import ScenesConfig, load_scenes
from cnnlab.data.transforms import AugmentConfig
from cnnlab.models import create_model
from cnnlab.train import Trainer, TrainingInterrupted, load_checkpoint, read_metrics_csv
from cnnlab.train.config import TrainConfig
from cnnlab.train.recipes import recipe
from cnnlab.train.tasks import get_task
from cnnlab.train.tasks.segmentation import AUX_WEIGHT

COLUMNS = {
    "segmentation": ["train_loss", "val_loss", "val_pixel_acc", "val_miou"],
    "multilabel": ["train_loss", "val_loss", "val_map", "val_f1_micro", "val_f1_macro"],
}
MODELS = {task: recipe(task).model for task in ("segmentation", "multilabel")}
AUGMENT = {
    "segmentation": AugmentConfig("crop", elastic=2.0),
    "multilabel": AugmentConfig("flip"),
}


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """One intra-op thread for these tiny trainings, restored afterwards (as tests/models'
    conftest): on 2 cores shared with other processes, 2 OpenMP threads spin at every barrier
    while the other waits for a core, and these tests ran several times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _quiet() -> Console:
    return Console(file=io.StringIO(), highlight=False, soft_wrap=True)


def _data(task: str):  # tiny scenes: 16 training, 8 validation canvases of 16x16
    options = LoadOptions(task=task, augment=AUGMENT[task])
    return load_scenes(None, options, ScenesConfig(n_train=16, n_val=8, image_size=16))


def _config(task: str, out: Path, **kw: object) -> TrainConfig:
    base = {"epochs": 2, "batch_size": 6, "device": "cpu", "out": str(out), "seed": 3}
    return recipe(task, **{**base, **AUGMENT[task].__dict__, "image_size": 16, **kw})


def _train(task: str, factory: pytest.TempPathFactory):
    """A run of ``task``: 2 epochs of 3 iterations."""
    out = factory.mktemp(task) / "run"
    data = _data(task)
    Trainer(_config(task, out), data=data, console=_quiet()).fit()
    return task, out, data


@pytest.fixture(scope="module")
def segmentation_run(tmp_path_factory: pytest.TempPathFactory):
    return _train("segmentation", tmp_path_factory)


@pytest.fixture(scope="module")
def multilabel_run(tmp_path_factory: pytest.TempPathFactory):
    return _train("multilabel", tmp_path_factory)


@pytest.fixture(params=["segmentation", "multilabel"])
def trained(request: pytest.FixtureRequest):
    return request.getfixturevalue(f"{request.param}_run")


def _outputs(task: str, out: Path, data) -> tuple[torch.Tensor, torch.Tensor]:
    """The saved model's validation outputs and targets, computed here."""
    ckpt = load_checkpoint(out / "last.pt")
    model = create_model(MODELS[task], num_classes=data.num_classes, in_chans=1)
    model.load_state_dict(ckpt["model"])
    model.eval()
    x, y = zip(*(data.val[i] for i in range(len(data.val))), strict=True)
    with torch.no_grad():
        return model(torch.stack(x)), torch.stack(y)


def test_metrics_csv_has_the_task_columns(trained) -> None:
    task, out, _ = trained
    header = (out / "metrics.csv").read_text().splitlines()[0].split(",")
    assert header == ["epoch", *COLUMNS[task], "lr", "seconds"]
    rows = read_metrics_csv(out / "metrics.csv")
    assert [r.epoch for r in rows] == [1, 2]
    assert TrainConfig.load(out / "config.json").task == task


def test_segmentation_scores_match_sklearn_on_the_saved_model(segmentation_run) -> None:
    task, out, data = segmentation_run
    logits, masks = _outputs(task, out, data)
    pred, truth = logits.argmax(1).numpy().ravel(), masks.numpy().ravel()
    keep = truth != 255
    cm = confusion_matrix(truth[keep], pred[keep], labels=list(range(data.num_classes)))
    union = cm.sum(0) + cm.sum(1) - np.diag(cm)
    iou = np.diag(cm)[union > 0] / union[union > 0]
    loss = nn.CrossEntropyLoss(ignore_index=255)(logits, masks)
    last = read_metrics_csv(out / "metrics.csv")[-1].values
    assert last["val_pixel_acc"] == pytest.approx(np.diag(cm).sum() / cm.sum(), abs=1e-12)
    assert last["val_miou"] == pytest.approx(iou.mean(), abs=1e-12)
    assert last["val_loss"] == pytest.approx(float(loss), rel=1e-5)
    with Image.open(out / "predictions.png") as picture:  # image, truth, prediction
        assert picture.size[0] > picture.size[1] / 4 > 0


def test_multilabel_thresholds_maximise_each_f1_and_are_saved(multilabel_run) -> None:
    task, out, data = multilabel_run
    logits, targets = _outputs(task, out, data)
    scores, y = torch.sigmoid(logits).numpy(), targets.numpy().astype(int)
    thresholds = load_checkpoint(out / "last.pt")["task"]["thresholds"].numpy()
    for c in range(y.shape[1]):
        f1 = [f1_score(y[:, c], scores[:, c] >= t, zero_division=0) for t in scores[:, c]]
        best = max(f1) if y[:, c].any() else 0.0
        assert f1_score(y[:, c], scores[:, c] >= thresholds[c], zero_division=0) == best
        if not y[:, c].any():
            assert thresholds[c] == 0.5  # a class without positives keeps the default
    last = read_metrics_csv(out / "metrics.csv")[-1].values
    chosen = scores >= thresholds
    assert last["val_f1_macro"] == pytest.approx(
        f1_score(y, chosen, average="macro", zero_division=0), abs=1e-12
    )
    assert last["val_f1_micro"] == pytest.approx(
        f1_score(y, chosen, average="micro", zero_division=0), abs=1e-12
    )
    ap = [
        average_precision_score(y[:, c], scores[:, c]) if y[:, c].any() else 0.0 for c in range(10)
    ]
    assert last["val_map"] == pytest.approx(np.mean(ap), abs=1e-9)
    loss = nn.BCEWithLogitsLoss()(logits, targets.float())
    assert last["val_loss"] == pytest.approx(float(loss), rel=1e-5)


def test_stop_mid_epoch_then_resume_is_bit_identical(trained, tmp_path: Path) -> None:
    task, straight, data = trained  # the same config, run without a stop

    def stop_at(trainer: Trainer, epoch: int, step: int) -> None:
        if (epoch, step) == (1, 1):
            trainer.request_stop()

    split = _config(task, tmp_path / "split")
    with pytest.raises(TrainingInterrupted):
        Trainer(split, data=data, console=_quiet(), on_iteration=stop_at).fit()
    config = TrainConfig.load(tmp_path / "split" / "config.json")
    Trainer(config, resume_from=tmp_path / "split", data=data, console=_quiet()).fit()
    a = load_checkpoint(straight / "last.pt")
    b = load_checkpoint(tmp_path / "split" / "last.pt")
    assert a["model"].keys() == b["model"].keys()
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    assert a["task"].keys() == b["task"].keys()
    for key in a["task"]:
        assert torch.equal(a["task"][key], b["task"][key]), key
    rows = [(r.values, r.lr) for r in read_metrics_csv(straight / "metrics.csv")]
    assert rows == [(r.values, r.lr) for r in read_metrics_csv(tmp_path / "split" / "metrics.csv")]


class _TwoHeads(nn.Module):
    """A model returning torchvision's {"out", "aux"} dict."""

    def __init__(self) -> None:
        super().__init__()
        self.out, self.aux = nn.Conv2d(1, 3, 1), nn.Conv2d(1, 3, 1)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"out": self.out(x), "aux": self.aux(x)}


def test_dict_outputs_add_the_aux_loss_and_valid_outputs_see_the_mask_centre() -> None:
    data = _data("segmentation")
    task = get_task("segmentation")(data)
    torch.manual_seed(0)
    x, masks = torch.randn(2, 1, 8, 8), torch.randint(0, 3, (2, 8, 8))
    masks[0, 0, :] = 255
    model = _TwoHeads()
    loss, out = task.loss(model, x, masks)
    ce = nn.functional.cross_entropy
    expected = ce(model.out(x), masks, ignore_index=255) + AUX_WEIGHT * ce(
        model.aux(x), masks, ignore_index=255
    )
    assert torch.allclose(loss, expected)
    assert torch.equal(out, model.out(x))
    # An output 4 pixels smaller than the mask (valid convolutions) meets the mask's centre.
    shrink = nn.Conv2d(1, 3, 5)
    loss, out = task.loss(shrink, x, masks)
    assert torch.allclose(loss, ce(shrink(x), masks[:, 2:-2, 2:-2], ignore_index=255))
