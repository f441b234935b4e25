"""Pure-Python arithmetic shared by both tiers (no numpy, no torch)."""

from cnnlab.core.accounting import EpochAccounting, iterations_per_epoch
from cnnlab.core.names import close_matches, unknown_name_message

__all__ = ["EpochAccounting", "close_matches", "iterations_per_epoch", "unknown_name_message"]
