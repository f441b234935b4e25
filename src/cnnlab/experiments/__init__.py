"""The notes' claims about training as experiments: run one, get a table, a figure and a verdict.

``run(name, quick=False, seed=0, out=None)`` runs the experiment ``name``, writes
``results.csv``, ``figure.png`` and ``summary.md`` into ``out`` and returns an
:class:`ExperimentResult`. Every experiment checks its numbers against an exact formula, an
independent library or a published result; ``--quick`` runs in about 5 s on 2 cores.

One file per experiment in this package, registered with :func:`register_experiment`; importing
the package imports every module that is not part of the framework (:data:`FRAMEWORK`) and whose
name does not start with ``_`` (an experiment's private helpers), so a new experiment is one new
file.
"""

import importlib
import pkgutil

from cnnlab.experiments.checks import Check
from cnnlab.experiments.context import Context, Outcome
from cnnlab.experiments.registry import (
    ExperimentInfo,
    experiment_info,
    list_experiments,
    register_experiment,
)
from cnnlab.experiments.runner import ExperimentResult, run

# The modules that make up the framework; every other module is an experiment.
FRAMEWORK = frozenset({"checks", "context", "loop", "registry", "runner", "writing"})

for _info in pkgutil.iter_modules(__path__):
    if _info.name not in FRAMEWORK and not _info.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_info.name}")

__all__ = [
    "FRAMEWORK",
    "Check",
    "Context",
    "ExperimentInfo",
    "ExperimentResult",
    "Outcome",
    "experiment_info",
    "list_experiments",
    "register_experiment",
    "run",
]
