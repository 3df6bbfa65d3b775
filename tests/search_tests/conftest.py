"""Fixtures shared by the search tests."""
from __future__ import annotations

import pytest

from .monitored import MonitoredSearch, monitored_search


@pytest.fixture(scope="session")
def search(tmp_path_factory, ray_session) -> MonitoredSearch:
    """One short real search, watched (progress lines, MLflow, TensorBoard), shared by the monitoring tests."""
    return monitored_search(tmp_path_factory.mktemp("monitored"))
