"""The allocator set-up: a real library ends up mapped, the overrides hold, and nothing ever fails."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rearing.train import allocator
from rearing.train.allocator import (
    CHOICE,
    GLIBC_TUNED,
    LOADED,
    SYSTEM,
    AllocatorWarning,
    allocator_environment,
    available_allocators,
    ensure_allocator,
    find_allocator,
)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="LD_PRELOAD is Linux-only")

PROBE = """
import json, os, sys
from rearing.train.allocator import ensure_allocator
used = ensure_allocator()
maps = open("/proc/self/maps").read()
print(json.dumps({"used": used, "maps": maps, "preload": os.environ.get("LD_PRELOAD", ""),
                  "env": {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")}}))
"""


def probe(**env: str) -> tuple[dict, str]:
    """Run a snippet that calls ``ensure_allocator`` in a fresh interpreter; its report and stderr."""
    clean = {k: v for k, v in os.environ.items() if k not in (CHOICE, LOADED, "LD_PRELOAD") and
             not k.startswith("MALLOC_")}
    done = subprocess.run([sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def installed() -> allocator.Allocator:
    found = available_allocators()
    if not found:
        pytest.skip("no tcmalloc/jemalloc/mimalloc here: run `python -m rearing.train.allocator install` "
                    "(the Makefile does) to obtain one")
    return found[0]


def test_a_named_library_is_preloaded_and_mapped():
    library = installed()
    report, _ = probe(**{CHOICE: str(library.path)})
    assert report["used"] == library.name
    assert str(library.path.resolve()) in report["maps"]
    assert report["preload"].split(":")[0] == str(library.path.resolve())


def test_the_default_is_the_best_library_found():
    library = installed()
    report, _ = probe()
    assert report["used"] == library.name
    assert str(library.path) in report["maps"]


def test_system_preloads_nothing():
    report, _ = probe(**{CHOICE: SYSTEM})
    assert report["used"] == SYSTEM
    assert report["preload"] == ""
    assert not any(name in report["maps"] for name in allocator.LIBRARIES)
    assert report["env"] == {}


def test_glibc_tuned_sets_the_malloc_variables_only():
    report, _ = probe(**{CHOICE: GLIBC_TUNED})
    assert report["used"] == GLIBC_TUNED
    assert report["preload"] == ""
    assert report["env"] == allocator.TUNING[GLIBC_TUNED]


def test_a_missing_path_warns_and_falls_back(tmp_path):
    missing = tmp_path / "libnothere.so"
    report, stderr = probe(**{CHOICE: str(missing)})
    assert str(missing) in stderr and "AllocatorWarning" in stderr
    fallback = available_allocators()
    assert report["used"] == (fallback[0].name if fallback else GLIBC_TUNED)
    assert str(missing) not in report["maps"]


def test_a_library_the_loader_rejects_falls_back(tmp_path, monkeypatch):
    broken = tmp_path / "libjemalloc.so.2"
    broken.write_bytes(b"\x7fELF" + b"\0" * 60)
    monkeypatch.setattr(allocator, "search_dirs", lambda: [tmp_path])
    with pytest.warns(AllocatorWarning, match="cannot preload"):
        env = allocator_environment("", {})
    assert env[LOADED] == GLIBC_TUNED
    assert "LD_PRELOAD" not in env


def test_the_marker_stops_a_second_round(monkeypatch):
    def refuse(*args):
        raise AssertionError("re-executed although the marker was set")

    monkeypatch.setattr(os, "execve", refuse)
    monkeypatch.setenv(LOADED, "tcmalloc")
    assert ensure_allocator() == "tcmalloc"


def test_an_exec_failure_continues_with_glibc(monkeypatch):
    def fail(*args):
        raise OSError("exec refused")

    monkeypatch.delenv(LOADED, raising=False)
    monkeypatch.setenv(CHOICE, GLIBC_TUNED)
    monkeypatch.setattr(os, "execve", fail)
    with pytest.warns(AllocatorWarning, match="exec refused"):
        assert ensure_allocator() == SYSTEM
    assert os.environ[LOADED] == SYSTEM


def test_a_program_read_from_stdin_is_not_run_twice():
    env = {k: v for k, v in os.environ.items() if k not in (LOADED, "LD_PRELOAD")}
    done = subprocess.run([sys.executable, "-"], input=PROBE, env={**env, CHOICE: GLIBC_TUNED},
                          capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(done.stdout)["used"] == SYSTEM


def test_find_allocator_honours_the_override(tmp_path, monkeypatch):
    library = installed()
    copy = tmp_path / library.path.name
    shutil.copyfile(library.path, copy)
    monkeypatch.setattr(allocator, "search_dirs", lambda: [tmp_path])
    monkeypatch.delenv(CHOICE, raising=False)
    assert find_allocator() == copy
    monkeypatch.setenv(CHOICE, SYSTEM)
    assert find_allocator() is None
    monkeypatch.setenv(CHOICE, GLIBC_TUNED)
    assert find_allocator() is None
    monkeypatch.setenv(CHOICE, library.name)
    assert find_allocator() == copy


def test_a_user_setting_is_not_overridden():
    env = allocator_environment(GLIBC_TUNED, {"MALLOC_TRIM_THRESHOLD_": "12345", "LD_PRELOAD": "/x.so"})
    assert env["MALLOC_TRIM_THRESHOLD_"] == "12345"
    assert env["MALLOC_MMAP_MAX_"] == allocator.TUNING[GLIBC_TUNED]["MALLOC_MMAP_MAX_"]
    assert env["LD_PRELOAD"] == "/x.so"


def test_install_without_any_source_exits_cleanly(tmp_path):
    """No apt-get on PATH and no package index: install reports the fallback and still exits 0."""
    env = {**os.environ, "PATH": str(tmp_path), "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": ""}
    command = [sys.executable, "-m", "rearing.train.allocator", "install", str(tmp_path / "venv")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "not obtainable here" in done.stdout or "already at" in done.stdout
    assert not (tmp_path / "venv" / allocator.LIB_DIR).exists() or any((tmp_path / "venv").rglob("*.so*"))


def test_install_keeps_a_library_already_there(tmp_path, monkeypatch):
    library = installed()
    target = tmp_path / allocator.LIB_DIR
    target.mkdir(parents=True)
    shutil.copyfile(library.path, target / library.path.name)
    fetched = []

    def fetch(name: str, work: Path) -> None:
        fetched.append(name)

    monkeypatch.setattr(allocator, "search_dirs", list)
    monkeypatch.setattr(allocator, "_from_debian", fetch)
    monkeypatch.setattr(allocator, "_from_pypi", fetch)
    assert allocator.install_allocator(tmp_path) == target / library.path.name
    assert library.name not in fetched and fetched


def test_the_cli_entry_exits_zero_even_when_install_raises(monkeypatch, capsys):
    def explode(*args):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(allocator, "install_allocator", explode)
    assert allocator.main(["install", "/nowhere"]) == 0
    assert "disk on fire" in capsys.readouterr().out
    assert allocator.main(["bogus"]) == 2


def test_library_names_map_to_allocators():
    assert allocator.name_of(Path("/x/libtcmalloc_minimal.so.4")) == "tcmalloc"
    assert allocator.name_of(Path("/x/libjemalloc.so.2")) == "jemalloc"
    assert allocator.name_of(Path("/x/libfoo.so.1")) == "libfoo"
