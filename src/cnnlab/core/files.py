"""Files a user makes: checked before any work, written atomically, readable as the umask says.

Every file cnnlab writes for a user (checkpoints, metrics, figures, reports) goes through
:func:`atomic_write`: a temporary file in the same folder, flushed to disk, then renamed over the
target, so a crash, Ctrl-C or ``kill -9`` mid-write leaves the previous file untouched. The result
gets the permissions a plain ``open(path, "w")`` would give (``0o666 & ~umask``), not the 0600 of
``tempfile.mkstemp``.

Output paths are checked *before* data or models load (:func:`check_output_file`,
:func:`check_output_dir`), so a typo in ``--out`` costs nothing. Pure Python: no numpy, no torch.
"""

from __future__ import annotations

import errno
import os
import tempfile
import threading
from collections.abc import Callable, Collection
from pathlib import Path
from typing import IO

from cnnlab.core.validate import InvalidArgument

__all__ = [
    "atomic_write",
    "atomic_write_text",
    "check_output_dir",
    "check_output_file",
    "create_unique_dir",
    "current_umask",
    "expand_path",
]

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process's umask (read by setting and restoring it, under a lock)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def expand_path(path: str | os.PathLike[str]) -> Path:
    """``path`` with ``~`` expanded, as a shell would have done it."""
    return Path(os.path.expanduser(os.fspath(path)))


def _nearest_existing(path: Path) -> Path:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def _can_write_in(folder: Path) -> bool:
    """Whether a file can really be created in ``folder`` (tried, then removed).

    Trying is the only honest test: ``os.access`` says yes to root on a read-only mount or /proc.
    """
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        return False
    return True


def _check_creatable(name: str, path: Path) -> None:
    """Raise unless the folders up to ``path`` exist as folders or can be made, and are writable."""
    existing = _nearest_existing(path.parent)
    if not existing.is_dir():
        raise InvalidArgument(
            name, f"{name} {str(path)!r} cannot be created: {str(existing)!r} is a file"
        )
    if not _can_write_in(existing):
        raise InvalidArgument(
            name, f"{name} {str(path)!r} cannot be created: {str(existing)!r} is not writable"
        )


def check_output_file(
    name: str, path: str | os.PathLike[str], suffixes: Collection[str] | None = None
) -> Path:
    """Check that a file can be written at ``path``; return it with ``~`` expanded.

    Args:
        name: the argument's name for the error (``"out"``; the CLI shows ``--out``).
        path: the file to be written.
        suffixes: the allowed endings (``{".png", ".svg"}``), or None for any.

    Raises:
        InvalidArgument: wrong suffix, ``path`` is a folder, a parent is a file, or the nearest
            existing folder is not writable.
    """
    out = expand_path(path)
    if suffixes is not None and out.suffix.lower() not in suffixes:
        raise InvalidArgument(
            name, f"{name} must end in one of {sorted(suffixes)}, got {str(path)!r}"
        )
    if out.is_dir():
        raise InvalidArgument(name, f"{name} {str(out)!r} is a folder; give a file name")
    if out.exists():
        if not _can_write_in(out.parent):
            raise InvalidArgument(name, f"{name} {str(out)!r} exists and is not writable")
        return out
    _check_creatable(name, out)
    return out


def check_output_dir(name: str, path: str | os.PathLike[str]) -> Path:
    """Check that ``path`` is, or can become, a writable folder; return it with ``~`` expanded."""
    out = expand_path(path)
    if out.exists():
        if not out.is_dir():
            raise InvalidArgument(name, f"{name} {str(out)!r} is a file, not a folder")
        if not _can_write_in(out):
            raise InvalidArgument(name, f"{name} {str(out)!r} is not writable")
        return out
    _check_creatable(name, out)
    return out


def create_unique_dir(base: str | os.PathLike[str]) -> Path:
    """Create and return ``base``, or ``base-2``, ``base-3``, ... if it already exists.

    ``mkdir`` is atomic, so two processes started in the same second never get the same folder.
    """
    base = expand_path(base)
    base.parent.mkdir(parents=True, exist_ok=True)
    for k in range(1, 10_000):
        candidate = base if k == 1 else base.with_name(f"{base.name}-{k}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise OSError(errno.EEXIST, f"no free folder name next to {str(base)!r}")


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> None:
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it over ``path``.

    A crash or Ctrl-C mid-write leaves the previous ``path`` untouched; the new file's mode is
    ``0o666 & ~umask``, as for a plain ``open``.

    Raises:
        OSError: the folder cannot be created or written (callers that run long work check
            the path first with :func:`check_output_file` / :func:`check_output_dir`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """:func:`atomic_write` for text (UTF-8)."""
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))
