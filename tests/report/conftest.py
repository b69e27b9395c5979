"""The report of the tiny run, and a real headless Chromium to open it in."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ARTIFACTS = Path(os.environ.get("REARING_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "runs" / "test-artifacts"))
"""Where the browser test keeps its report and screenshot after the run (CI keeps this folder)."""


@pytest.fixture(scope="session")
def reported(tiny_analysed_run, tmp_path_factory) -> Path:
    """A copy of the tiny run with its report stage done."""
    from rearing.pipeline import run_config, run_pipeline

    run_dir = tmp_path_factory.mktemp("reported") / "run"
    shutil.copytree(tiny_analysed_run, run_dir)
    run_pipeline(run_config(run_dir), run_dir)
    return run_dir


def _install_chromium() -> None:
    """Debian's chromium, as the Makefile installs it (root, or sudo without a password)."""
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*sudo, "apt-get", "install", "-y", "-q", "chromium"]
    if subprocess.run(install, env=env, capture_output=True, check=False).returncode != 0:
        subprocess.run([*sudo, "apt-get", "update", "-q"], env=env, capture_output=True, check=False)
        subprocess.run(install, env=env, capture_output=True, check=True)


@pytest.fixture(scope="session")
def chromium() -> Path:
    """The Chromium executable, installed when absent; the test fails (never skips) when it cannot be."""
    from rearing.report.browser import BrowserUnavailable, find_chromium

    try:
        return find_chromium()
    except BrowserUnavailable:
        try:
            _install_chromium()
        except (OSError, subprocess.CalledProcessError) as exc:
            pytest.fail(f"Chromium is not installed and could not be (apt-get install chromium): {exc}")
    return find_chromium()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
