"""The worked example behind `cnnlab boxes-demo`: what it computes and how it writes the figure."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import pytest
import torchvision.ops as tv
from matplotlib.figure import Figure

from cnnlab.core.validate import InvalidArgument
from cnnlab.demos import boxes
from cnnlab.demos.boxes import GROUND_TRUTH, BoxesDemo, plot_boxes_demo, run_boxes_demo

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def small_demo() -> BoxesDemo:
    return run_boxes_demo(seed=1, proposals=4, train_proposals=20)


def test_regression_and_nms_do_their_jobs() -> None:
    demo = run_boxes_demo(seed=3, proposals=30)
    gt = demo.gt_boxes[demo.owners]
    before = tv.box_iou(demo.proposals, gt).diagonal().mean().item()
    after = tv.box_iou(demo.regressed, gt).diagonal().mean().item()
    assert after > before + 0.05, f"mean IoU {before:.3f} -> {after:.3f}"
    survivors = demo.owners[demo.keep].tolist()
    assert set(survivors) == set(range(len(GROUND_TRUTH))), f"survivors' objects {survivors}"
    assert len(survivors) <= 2 * len(GROUND_TRUTH), f"{len(survivors)} survivors"
    assert tv.box_iou(demo.regressed[demo.keep], demo.regressed[demo.keep]).triu(1).max() <= 0.3


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"proposals": 0}, "proposals must be a positive integer <= 1000, got 0"),
        ({"train_proposals": 1001}, "train_proposals must be a positive integer <= 1000"),
        ({"jitter": 0.0}, r"jitter must be a finite number in \(0, 1\], got 0.0"),
        ({"iou_threshold": float("nan")}, r"iou_threshold must be a finite number in \[0, 1\]"),
        ({"seed": -1}, "seed must be an integer >= 0, got -1"),
        ({"alpha": -1.0}, "alpha must be a finite number >= 0, got -1.0"),
    ],
    ids=["proposals", "train-proposals", "jitter", "iou-nan", "seed", "alpha"],
)
def test_arguments_are_checked_before_anything_loads(
    kwargs: dict, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_loading() -> None:
        raise AssertionError("the image was loaded before the arguments were checked")

    monkeypatch.setattr(boxes, "load_scene", no_loading)
    with pytest.raises(InvalidArgument, match=f"^{message}") as err:
        run_boxes_demo(**kwargs)
    assert err.value.argument == next(iter(kwargs))


def test_figure_leaves_pyplot_and_the_backend_alone(
    small_demo: BoxesDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Library code draws on a Figure object: no matplotlib.use, no pyplot figure manager."""
    backend, figures = matplotlib.get_backend(), plt.get_fignums()

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("library code touched global matplotlib state")

    monkeypatch.setattr(matplotlib, "use", forbidden)
    for name in ("figure", "subplots", "savefig", "close"):
        monkeypatch.setattr(plt, name, forbidden)
    old_umask = os.umask(0o027)
    try:
        out = plot_boxes_demo(small_demo, tmp_path / "b.png")
    finally:
        os.umask(old_umask)
    assert out == tmp_path / "b.png" and out.read_bytes()[:8] == PNG
    assert os.stat(out).st_mode & 0o777 == 0o640, "the umask is not respected"
    assert matplotlib.get_backend() == backend and plt.get_fignums() == figures
    assert os.listdir(tmp_path) == ["b.png"], "a temporary file was left behind"


def test_an_interrupted_write_keeps_the_previous_figure(
    small_demo: BoxesDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "b.png"
    out.write_bytes(b"the previous figure")

    def half_written(self: Figure, f: object, **kwargs: object) -> None:
        f.write(PNG)  # type: ignore[attr-defined]
        raise KeyboardInterrupt

    monkeypatch.setattr(Figure, "savefig", half_written)
    with pytest.raises(KeyboardInterrupt):
        plot_boxes_demo(small_demo, out)
    assert out.read_bytes() == b"the previous figure"
    assert os.listdir(tmp_path) == ["b.png"]


@pytest.mark.parametrize("where", ["under-a-file", "folder", "suffix"])
def test_the_path_is_checked_before_drawing(
    where: str, small_demo: BoxesDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "afile").write_text("x")
    (tmp_path / "b.png").mkdir()
    path = {
        "under-a-file": tmp_path / "afile" / "b.png",
        "folder": tmp_path / "b.png",
        "suffix": tmp_path / "b.nope",
    }[where]
    monkeypatch.setattr(Figure, "__init__", lambda *a, **k: pytest.fail("drew before checking"))
    with pytest.raises(InvalidArgument, match=r"^path "):
        plot_boxes_demo(small_demo, path)
