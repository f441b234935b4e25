"""Tasks: what the training loop, ``cnnlab eval`` and ``cnnlab predict`` need to know about a
kind of target (classification here; segmentation, multi-label and detection add theirs).

A task is one module in this package defining a :class:`~cnnlab.train.tasks.base.Task` subclass
with a ``name``; modules are found automatically, so a new task is one file and the loop does not
change. :func:`get_task` returns the class of a name, :func:`task_names` lists them.
"""

from __future__ import annotations

import importlib
import pkgutil

from cnnlab.core.validate import one_of
from cnnlab.train.tasks.base import Task

__all__ = ["Task", "get_task", "task_names"]

_NOT_TASKS = {"base"}


def _tasks() -> dict[str, type[Task]]:
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_") and info.name not in _NOT_TASKS:
            importlib.import_module(f"{__name__}.{info.name}")
    return Task.registry


def task_names() -> list[str]:
    """The task names, sorted."""
    return sorted(_tasks())


def get_task(name: str) -> type[Task]:
    """The task class called ``name``.

    Raises:
        InvalidArgument: an unknown name (``task must be one of [...]``, with close matches).
    """
    tasks = _tasks()
    return tasks[one_of("task", name, tasks)]
