"""The experiment registry: each experiment file registers itself with :func:`register_experiment`.

Mirrors the model registry: names are unique (a duplicate raises), unknown names list the close
matches, and importing :mod:`cnnlab.experiments` imports every experiment file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from cnnlab.core.names import unknown_name_message

if TYPE_CHECKING:
    from cnnlab.experiments.context import Context, Outcome

ExperimentFn = Callable[["Context"], "Outcome"]
F = TypeVar("F", bound=ExperimentFn)


@dataclass(frozen=True)
class ExperimentInfo:
    """What the registry knows about one experiment.

    Attributes:
        name: registry name, e.g. ``"init-depth"`` (the CLI's NAME).
        section: the notes' heading(s) it answers, as in ``shared/notes/sections.md``
            (``"#6 神经网络怎样进行参数初始化？"``).
        claim: the notes' claim in one line.
        reference: the papers or formulas the measured numbers are checked against.
        full_seconds: the measured wall time of a full run on 2 CPU cores, for ``--list``.
        fn: the experiment: ``fn(context) -> Outcome``.
    """

    name: str
    section: str
    claim: str
    reference: str
    full_seconds: float
    fn: ExperimentFn


_REGISTRY: dict[str, ExperimentInfo] = {}


def register_experiment(
    *, name: str, section: str, claim: str, reference: str, full_seconds: float
) -> Callable[[F], F]:
    """Decorator adding an experiment to the registry; a duplicate name raises ``ValueError``."""

    def decorate(fn: F) -> F:
        if name in _REGISTRY:
            raise ValueError(
                f"experiment name {name!r} is already registered "
                f"(by {_REGISTRY[name].fn.__module__})"
            )
        _REGISTRY[name] = ExperimentInfo(name, section, claim, reference, full_seconds, fn)
        return fn

    return decorate


def _ensure_loaded() -> None:
    # Importing the package imports every experiment file, which registers it.
    import cnnlab.experiments  # noqa: F401


def list_experiments() -> list[str]:
    """The registered names, sorted."""
    _ensure_loaded()
    return sorted(_REGISTRY)


def experiment_info(name: str) -> ExperimentInfo:
    """The :class:`ExperimentInfo` of ``name``; unknown names raise ``ValueError`` with close
    matches."""
    _ensure_loaded()
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(unknown_name_message("experiment", str(name), _REGISTRY))
    return _REGISTRY[name]
