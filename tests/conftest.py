"""Shared test settings: hypothesis without deadlines (the first torch calls are slow)."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("cnnlab", deadline=None, max_examples=40, derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "cnnlab"))
