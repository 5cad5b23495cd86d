"""An exchange package whose import fails, as one with a missing dependency would."""

raise ImportError("No module named 'frobnicate' (brokenex needs it)")
