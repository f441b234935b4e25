"""Draw what R-CNN box regression and NMS do, on a photo shipped with scikit-learn.

Jittered proposals around hand-drawn ground-truth boxes on china.jpg are regressed by a ridge
BoxRegressor (lambda = 1000) on RoI-Align features of each proposal, then reduced by NMS. The
figure has three panels (proposals, regressed boxes, NMS survivors) over the ground truth; the
mean IoU before and after regression is printed and shown in the titles. Nothing is downloaded.
"""

from __future__ import annotations

import argparse

from cnnlab.core.files import check_output_file

NAME = "boxes-demo"
HELP = "draw proposals, box regression and NMS on a real image (writes a PNG)"

_SUFFIXES = (".png", ".pdf", ".svg")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="boxes.png", help="figure to write (default boxes.png)")
    p.add_argument("--seed", type=int, default=0, help="seed of the jitter (default 0)")
    p.add_argument(
        "--proposals",
        type=int,
        default=40,
        help="test proposals drawn per object (default 40; 200 per object train the regressor)",
    )
    p.add_argument(
        "--jitter",
        type=float,
        default=0.15,
        help="standard deviation of the random offsets t of the proposals (default 0.15)",
    )
    p.add_argument(
        "--iou-threshold",
        type=float,
        default=0.3,
        help="NMS drops a box whose IoU with a better kept box exceeds this (default 0.3)",
    )


def run(args: argparse.Namespace) -> int:
    out = check_output_file("out", args.out, _SUFFIXES)  # before anything is imported or loaded
    from cnnlab.demos.boxes import plot_boxes_demo, run_boxes_demo

    # run_boxes_demo checks its arguments (named as the flags) before it loads the image
    demo = run_boxes_demo(
        seed=args.seed,
        proposals=args.proposals,
        jitter=args.jitter,
        iou_threshold=args.iou_threshold,
    )
    plot_boxes_demo(demo, out)
    print(demo.summary())
    print(f"wrote {out}")
    return 0
