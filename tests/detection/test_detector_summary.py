"""`summary` and `cnnlab summary` on the detectors; the registry entries."""

from __future__ import annotations

import json

import pytest
import torch

from cnnlab.analysis import summary
from cnnlab.cli.main import main
from cnnlab.models import create_model, list_models, model_info


def test_registry_entries() -> None:
    assert list_models(task="detection") == [
        "fasterrcnn_resnet18_fpn",
        "fasterrcnn_resnet50_fpn",
        "retinanet_resnet18_fpn",
        "retinanet_resnet50_fpn",
    ]
    assert model_info("retinanet_resnet50_fpn").default_input_size == (3, 800, 800)
    assert model_info("fasterrcnn_resnet18_fpn").family == "faster_rcnn"
    with torch.device("meta"):
        model = create_model("retinanet_resnet18_fpn", num_classes=11, in_chans=1)
    assert model.backbone.body.conv1.in_channels == 1
    assert model.head.classification_head.cls_logits.out_channels == 9 * 11
    assert model.transform.image_mean == [0.0] and model.transform.image_std == [1.0]
    with pytest.raises(ValueError, match="unexpected option"):
        create_model("fasterrcnn_resnet18_fpn", dropout=0.1)


def test_faster_rcnn_summary_by_hand(macs) -> None:
    # meta trace (no values): every selection keeps its cap, here 300 proposals per image
    with torch.device("meta"):
        model = create_model("fasterrcnn_resnet18_fpn", num_classes=11, in_chans=1)
    report = summary(model, (1, 128, 128))
    assert report.device == "meta"
    assert report.total_params == sum(p.numel() for p in model.parameters())
    assert report["rpn"].output_shape == (300, 4)
    # RPN head: 3x3 conv 64 -> 64 and 1x1 convs to 3 + 12 outputs at every position of P2-P6
    positions = 32 * 32 + 16 * 16 + 8 * 8 + 4 * 4 + 2 * 2
    assert report["rpn"].macs == positions * 64 * (9 * 64 + 3 + 12)
    # box head on 300 RoIs: fc6 (64*7*7 -> 256), fc7 (256 -> 256), 11 scores, 44 offsets
    assert report["roi_heads"].macs == 300 * (64 * 49 * 256 + 256 * 256 + 256 * (11 + 44))
    assert report["roi_heads"].output_shape[0] == (100, 4)  # box_detections_per_img
    fpn_macs = macs(create_model("fasterrcnn_resnet18_fpn", in_chans=1).backbone, (1, 128, 128))
    assert report["backbone"].macs == fpn_macs  # fvcore, independently


def test_retinanet_meta_bound_is_a_cpu_run_that_filters_nothing() -> None:
    # With no threshold and an NMS that suppresses nothing (IoU > 1 never happens), the real
    # forward keeps what the meta trace assumes: topk_candidates per level, then the cap.
    torch.manual_seed(0)
    model = create_model("retinanet_resnet18_fpn", num_classes=3, score_thresh=0.0, nms_thresh=1.0)
    model.detections_per_img = 1000
    meta = summary(model, (3, 128, 128))
    cpu = summary(model, (3, 128, 128), device="cpu")
    assert meta.device == "meta" and cpu.device == "cpu"
    anchors = 9 * (16 * 16 + 8 * 8 + 4 * 4 + 2 * 2 + 1)
    assert meta["postprocess"].output_shape[0] == (1000, 4)  # min(1000, sum over levels)
    assert cpu["postprocess"].output_shape == meta["postprocess"].output_shape
    assert meta["head"].output_shape == ((1, anchors, 3), (1, anchors, 4))
    assert meta.total_macs == cpu.total_macs


def test_cnnlab_summary_command(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["summary", "retinanet_resnet18_fpn", "--depth", "1", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = {row["name"]: row for row in json.loads(out)["layers"]}
    assert {"transform", "backbone", "head", "anchor_generator", "postprocess"} <= set(rows)
    assert rows["head"]["params"] == sum(
        p.numel() for p in create_model("retinanet_resnet18_fpn").head.parameters()
    )
