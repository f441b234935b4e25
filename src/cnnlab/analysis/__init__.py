"""Model analysis: shapes, parameters, MACs/FLOPs, memory and receptive fields, training included.

``summary(model, input_size)`` traces one forward pass of a copy of the model on the meta device
(no arithmetic, no memory proportional to the input) and returns a :class:`Report`; see
:func:`summary` for the counting conventions and :mod:`cnnlab.analysis.op_table` for the ops it
knows.
"""

from cnnlab.analysis.report import Report, UnknownLayerError
from cnnlab.analysis.rows import FieldBox, ReceptiveField, Row
from cnnlab.analysis.summary import NeedsRealData, summary
from cnnlab.analysis.training import TrainingMemory

__all__ = [
    "FieldBox",
    "NeedsRealData",
    "ReceptiveField",
    "Report",
    "Row",
    "TrainingMemory",
    "UnknownLayerError",
    "summary",
]
