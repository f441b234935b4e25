"""Predict image files with a trained run: the most probable classes and their probabilities.

Each IMAGE is decoded (PIL, as RGB) and preprocessed exactly as the run's validation images: its
channels, resized to the run's input size, standardised with the run's training statistics.
--format json prints one object per image; --out DIR also writes predictions.json there (and
the files the task draws: masks, boxes).
"""

from __future__ import annotations

import argparse
import json

NAME = "predict"
HELP = "class probabilities of image files with a trained run"
FORMATS = ("table", "json")


def add_arguments(p: argparse.ArgumentParser) -> None:
    from cnnlab.cli._runs import add_run_options

    p.add_argument("run_dir", metavar="RUN_DIR", help="a cnnlab train run directory")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (PNG, JPEG...)")
    p.add_argument(
        "--top-k", type=int, default=5, metavar="K", help="classes shown per image (default 5)"
    )
    p.add_argument("--format", choices=FORMATS, default="table", help="output (default table)")
    p.add_argument("--out", default=None, metavar="DIR", help="also write predictions.json here")
    add_run_options(p)


def run(args: argparse.Namespace) -> int:
    from cnnlab.core.files import atomic_write_text, check_output_dir
    from cnnlab.core.validate import positive_int
    from cnnlab.train.prediction import check_images, predict_images
    from cnnlab.train.trained import checkpoint_path, load_trained, run_directory

    top_k = positive_int("top_k", args.top_k)
    run_dir = run_directory(args.run_dir)
    checkpoint_path(run_dir, args.checkpoint)
    files = check_images(args.images)
    out = check_output_dir("out", args.out) if args.out is not None else None
    trained = load_trained(run_dir, args.checkpoint, device=args.device)
    prediction = predict_images(trained, files, top_k)
    names = [str(p) for p in args.images]
    records = [{"image": n, **r} for n, r in zip(names, prediction.results, strict=True)]
    if args.format == "json":
        print(json.dumps(records, indent=2))
    else:
        for line in trained.task.predict_table(names, prediction.results):
            print(line)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "predictions.json", json.dumps(records, indent=2) + "\n")
        files_ = trained.task.prediction_files(prediction.outputs, files, trained.classes)
        for name, write in files_.items():
            write(out / name)
    return 0
