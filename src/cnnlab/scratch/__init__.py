"""The NumPy tier: every layer of the notes with its forward and backward pass written out.

Imports NumPy only, never torch (a test checks); PyTorch is the oracle in the tests.
"""

from cnnlab.scratch.boxes import nms, roi_pool
from cnnlab.scratch.parameter import Parameter

__all__ = ["Parameter", "nms", "roi_pool"]
