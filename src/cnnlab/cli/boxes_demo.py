"""Draw what R-CNN box regression and NMS do, on a photo shipped with scikit-learn.

Jittered proposals around hand-drawn ground-truth boxes on china.jpg are regressed by a ridge
BoxRegressor (lambda = 1000) on RoI-Align features of each proposal, then reduced by NMS. The
figure has three panels (proposals, regressed boxes, NMS survivors) over the ground truth; the
mean IoU before and after regression is printed and shown in the titles. Nothing is downloaded.
"""

from __future__ import annotations

import argparse

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
    import math
    from pathlib import Path

    out = Path(args.out)
    if out.suffix.lower() not in _SUFFIXES:
        raise ValueError(f"--out must end in one of {', '.join(_SUFFIXES)}, got {str(out)!r}")
    if out.exists() and out.is_dir():
        raise ValueError(f"--out {str(out)!r} is a directory; give a file name like boxes.png")
    if not 1 <= args.proposals <= 1000:
        raise ValueError(f"--proposals must be between 1 and 1000, got {args.proposals}")
    if not (math.isfinite(args.jitter) and 0 < args.jitter <= 1):
        raise ValueError(f"--jitter must be in (0, 1], got {args.jitter}")
    if not 0 <= args.iou_threshold <= 1:
        raise ValueError(f"--iou-threshold must be in [0, 1], got {args.iou_threshold}")

    from cnnlab.detection.demo import plot_boxes_demo, run_boxes_demo

    demo = run_boxes_demo(
        seed=args.seed,
        test_per_box=args.proposals,
        sigma=args.jitter,
        iou_threshold=args.iou_threshold,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    plot_boxes_demo(demo, out)
    print(demo.summary())
    print(f"wrote {out}")
    return 0
