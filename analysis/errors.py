"""The one user-facing error of analysis (and of search, which raises it as `search.launch.LaunchError`)."""
from __future__ import annotations


class ExperimentError(RuntimeError):
    """A problem with an experiment folder or with what was asked of it; its message is one line for the user."""
