"""The notes' claims about training as experiments: run one, get a table, a figure and a verdict.

``run(name, quick=False, seed=0, out=None)`` runs the experiment ``name`` (one file per
experiment in this package, registered with :func:`register_experiment`), writes
``results.csv``, ``figure.png`` and ``summary.md`` into ``out`` and returns an
:class:`ExperimentResult`. Every experiment checks its numbers against an exact formula, an
independent library or a published result; ``--quick`` runs in about 5 s on 2 cores.
"""

from cnnlab.experiments import (  # noqa: F401  (each module registers its experiment)
    activations,
    batch_size,
    dropout_bn_shift,
    effective_rf,
    init_depth,
    l1_sparsity,
    odd_kernels,
    pooling,
    saddle,
)
from cnnlab.experiments.checks import Check
from cnnlab.experiments.context import Context, Outcome
from cnnlab.experiments.registry import (
    ExperimentInfo,
    experiment_info,
    list_experiments,
    register_experiment,
)
from cnnlab.experiments.runner import ExperimentResult, run

__all__ = [
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
