"""Model analysis: shapes, parameters, MACs/FLOPs, activation memory and receptive fields.

``summary(model, input_size)`` traces one forward pass on the meta device (no arithmetic, no
memory proportional to the input) and returns a :class:`Report`; see :func:`summary` for the
counting conventions.
"""

from cnnlab.analysis.report import FieldBox, LayerRow, ReceptiveField, Report, UnknownLayerError
from cnnlab.analysis.summary import summary

__all__ = ["FieldBox", "LayerRow", "ReceptiveField", "Report", "UnknownLayerError", "summary"]
