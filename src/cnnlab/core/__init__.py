"""Pure-Python arithmetic shared by both tiers (no numpy, no torch)."""

from cnnlab.core.accounting import EpochAccounting, iterations_per_epoch
from cnnlab.core.names import close_matches, unknown_name_message
from cnnlab.core.receptive_field import AxisField, stack_fields, union
from cnnlab.core.validate import InvalidArgument

__all__ = [
    "AxisField",
    "EpochAccounting",
    "InvalidArgument",
    "close_matches",
    "iterations_per_epoch",
    "stack_fields",
    "union",
    "unknown_name_message",
]
