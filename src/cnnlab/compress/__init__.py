"""Network compression and quantisation: BN folding, int8, pruning, low rank, distillation.

* :func:`fold_bn` -- merge eval-mode batch norms into the conv/linear layer before them.
* :func:`quantize_static` / :func:`lower_for_cpu` -- post-training static int8 (torchao's PT2E
  flow, x86 recipe); :func:`quantize_dynamic` -- int8 linear layers (torchao ``quantize_``).
* :func:`prune_unstructured` (magnitude masks as ``torch.nn.utils.prune.l1_unstructured``) and
  :func:`prune_channels` (structured: the layers really shrink), :func:`finetune`.
* :func:`truncated_svd`, :func:`factorize_linear`, :func:`lowrank` -- low-rank linear layers.
* :func:`distillation_loss` -- Hinton et al.'s loss (it lives in :mod:`cnnlab.train.distillation`).
* :func:`compress_run` -- ``cnnlab compress``: every method on a trained run, one table;
  :func:`load_compressed` reads a saved result back (``weights_only=True``).

The integer arithmetic itself is written out in NumPy in :mod:`cnnlab.scratch.quant`.
"""

from cnnlab.compress.channel_prune import find_chains, prune_channels, shrink_channels
from cnnlab.compress.finetune import finetune
from cnnlab.compress.fold_bn import conv_bn_pairs, fold_bn
from cnnlab.compress.lowrank import TruncatedSVD, factorize_linear, lowrank, truncated_svd
from cnnlab.compress.measure import accuracy, latency_ms, parameter_count, saved_bytes
from cnnlab.compress.methods import METHODS
from cnnlab.compress.pipeline import compress_run
from cnnlab.compress.prune import magnitude_mask, magnitude_masks, prune_unstructured, sparsity
from cnnlab.compress.quantize import (
    activation_qparams,
    lower_for_cpu,
    quantize_dynamic,
    quantize_static,
    restore_static,
)
from cnnlab.compress.report import CompressionReport, Row
from cnnlab.compress.run import TrainedRun, load_run
from cnnlab.compress.storage import LoadedModel, load_compressed
from cnnlab.train.distillation import distillation_loss

__all__ = [
    "METHODS",
    "CompressionReport",
    "LoadedModel",
    "Row",
    "TrainedRun",
    "TruncatedSVD",
    "accuracy",
    "activation_qparams",
    "compress_run",
    "conv_bn_pairs",
    "distillation_loss",
    "factorize_linear",
    "find_chains",
    "finetune",
    "fold_bn",
    "latency_ms",
    "load_compressed",
    "load_run",
    "lower_for_cpu",
    "lowrank",
    "magnitude_mask",
    "magnitude_masks",
    "parameter_count",
    "prune_channels",
    "prune_unstructured",
    "quantize_dynamic",
    "quantize_static",
    "restore_static",
    "saved_bytes",
    "shrink_channels",
    "sparsity",
    "truncated_svd",
]
