"""A local Ray instance for the session (Ray's local_mode is gone: tasks run in real worker processes)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def ray_instance():
    """``ray.init(num_cpus=2)``, its workers able to import this folder's cell bodies; shut down at the end."""
    import ray  # the 'ray' extra is part of 'test': a missing Ray fails these tests rather than skipping them

    here = str(Path(__file__).resolve().parent)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": here}})
    yield ray
    ray.shutdown()
