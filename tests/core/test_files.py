"""core.files: atomic writes that respect the umask, output checks before any work."""

from __future__ import annotations

import os
import stat
from multiprocessing import get_context

import pytest

from cnnlab.core.files import (
    atomic_write,
    atomic_write_text,
    check_output_dir,
    check_output_file,
    create_unique_dir,
    current_umask,
    expand_path,
)


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077], ids=["022", "027", "077"])
def test_atomic_write_follows_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        assert current_umask() == umask
        atomic_write_text(tmp_path / "a.txt", "hello")
        plain = tmp_path / "plain.txt"
        plain.write_text("hello")  # what open() gives: the reference
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "a.txt").stat().st_mode)
    assert mode == stat.S_IMODE(plain.stat().st_mode) == 0o666 & ~umask
    assert (tmp_path / "a.txt").read_text() == "hello"


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "last.pt"
    target.write_bytes(b"good")

    def broken(f):
        f.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(target, broken)
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temporary left behind


def test_check_output_file(tmp_path):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "d.png").mkdir()
    assert check_output_file("out", tmp_path / "new" / "deeper" / "r.png", {".png"}).name == "r.png"
    with pytest.raises(ValueError, match=r"^out .* is a folder"):
        check_output_file("out", tmp_path / "d.png", {".png"})
    with pytest.raises(ValueError, match=r"^out .* cannot be created: .*afile' is a file"):
        check_output_file("out", tmp_path / "afile" / "r.png", {".png"})
    with pytest.raises(ValueError, match=r"^out must end in one of \['.png'\]"):
        check_output_file("out", tmp_path / "r.jpg", {".png"})
    with pytest.raises(ValueError, match=r"cannot be created"):
        check_output_file("out", "/proc/x.png", {".png"})


def test_check_output_file_unwritable_folder(tmp_path, monkeypatch):
    # root ignores mode bits, so simulate the folder an ordinary user cannot write to
    import cnnlab.core.files as files

    monkeypatch.setattr(files, "_can_write_in", lambda folder: False)
    with pytest.raises(ValueError, match=r"is not writable"):
        check_output_file("out", tmp_path / "r.png")
    with pytest.raises(ValueError, match=r"is not writable"):
        check_output_dir("out", tmp_path)


def test_check_output_dir(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ValueError, match=r"^out .*afile' is a file, not a folder"):
        check_output_dir("out", tmp_path / "afile")
    with pytest.raises(ValueError, match=r"^out .* cannot be created: .*afile' is a file"):
        check_output_dir("out", tmp_path / "afile" / "run")
    assert check_output_dir("out", tmp_path / "run") == tmp_path / "run"
    assert not (tmp_path / "run").exists()  # checking creates nothing


def test_expand_path_expands_the_home(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert expand_path("~/x") == tmp_path / "x"


def _make(base, queue):
    queue.put(str(create_unique_dir(base)))


def test_unique_dirs_under_a_race(tmp_path):
    ctx = get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_make, args=(tmp_path / "runs" / "r", queue)) for _ in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    made = sorted(queue.get() for _ in procs)
    assert len(set(made)) == 6
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == sorted(
        ["r", "r-2", "r-3", "r-4", "r-5", "r-6"]
    )
