"""A faster malloc for training: glibc's costs a third of a CPU training step, tcmalloc gives it back.

Every step allocates and frees logits-sized buffers (tens of MB). glibc serves those with a fresh
``mmap`` and returns them with ``munmap``, so each step page-faults and zeroes them again; on the
nano preset that is about a third of the step (measured in ``bench/bench_train.py``). tcmalloc,
mimalloc, and jemalloc told never to return memory keep the pages and reuse them.

An allocator has to be chosen before the process starts, so ``ensure_allocator`` re-executes the
command once with ``LD_PRELOAD`` set (the marker ``REARING_ALLOCATOR_LOADED`` stops a second
round). Where no library can be had it falls back to glibc told to keep its heap instead
(``glibc-tuned``), and it never fails: the worst case is the speed glibc gives anyway.

``REARING_ALLOCATOR`` overrides the choice: a path to a shared library, an allocator's name
(``tcmalloc``, ``jemalloc``, ``mimalloc``), ``glibc-tuned``, or ``system`` (change nothing).

``python -m rearing.train.allocator install [VENV]`` puts libraries into ``VENV/lib/rearing-alloc``
(from Debian's packages without root, and from PyPI); ``... show`` prints what would be used.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

CHOICE = "REARING_ALLOCATOR"
LOADED = "REARING_ALLOCATOR_LOADED"
SYSTEM, GLIBC_TUNED = "system", "glibc-tuned"
LIB_DIR = Path("lib") / "rearing-alloc"

LIBRARIES: dict[str, tuple[str, ...]] = {
    "tcmalloc": ("libtcmalloc_minimal.so.4", "libtcmalloc.so.4", "libtcmalloc_minimal.so", "libtcmalloc.so"),
    "jemalloc": ("libjemalloc.so.2", "libjemalloc.so"),
    "mimalloc": ("libmimalloc.so.3", "libmimalloc.so.2", "libmimalloc.so"),
}
"""File names per allocator, in the order preferred (``LIBRARIES`` order is the preference)."""

TUNING: dict[str, dict[str, str]] = {
    "tcmalloc": {"TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD": str(1 << 40)},
    # Without these jemalloc purges freed pages on a timer and large ones at once: no faster than glibc.
    "jemalloc": {"MALLOC_CONF": "oversize_threshold:0,dirty_decay_ms:-1,muzzy_decay_ms:-1"},
    "mimalloc": {},
    # No mmap for large blocks and no trimming: big buffers are reused from the heap.
    GLIBC_TUNED: {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(1 << 30),
                  "MALLOC_TOP_PAD_": str(64 << 20)},
}
"""Environment each allocator runs with; a variable the user has set already is left alone."""

DEBIAN_PACKAGES = {"tcmalloc": "libtcmalloc-minimal4", "jemalloc": "libjemalloc2"}
PYPI_PACKAGES = {"mimalloc": "cmeel-mimalloc"}


class AllocatorWarning(UserWarning):
    """The allocator asked for could not be used; a fallback was taken."""


@dataclass(frozen=True)
class Allocator:
    """A malloc replacement: its name (the marker value) and its shared library."""

    name: str
    path: Path


def search_dirs() -> list[Path]:
    """Where libraries are looked for: this environment's own folder first, then the system's."""
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    dirs = [Path(sys.prefix) / LIB_DIR]
    for root in ("/usr/lib", "/lib", "/usr/local/lib"):
        if multiarch:
            dirs.append(Path(root) / multiarch)
        dirs.append(Path(root))
    dirs.append(Path("/usr/lib64"))
    return dirs


def _is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def name_of(path: Path) -> str:
    """The allocator a library file is, by its name; an unknown library is called by its stem."""
    for name in LIBRARIES:
        if name in path.name:
            return name
    return path.name.split(".so")[0]


def available_allocators(dirs: Sequence[Path] | None = None) -> list[Allocator]:
    """Every known allocator found, best first, one library each."""
    found = []
    for name, files in LIBRARIES.items():
        for directory in dirs if dirs is not None else search_dirs():
            hits = [directory / f for f in files if _is_elf(directory / f)]
            if hits:
                found.append(Allocator(name, hits[0]))
                break
    return found


def find_allocator(dirs: Sequence[Path] | None = None) -> Path | None:
    """The library to preload, honouring ``REARING_ALLOCATOR``; None means stay with glibc."""
    chosen = _resolve(os.environ.get(CHOICE, ""), dirs)
    return chosen.path if isinstance(chosen, Allocator) else None


def _resolve(choice: str, dirs: Sequence[Path] | None = None) -> Allocator | str:
    """``choice`` (the override's value) as an allocator, or ``system`` / ``glibc-tuned``."""
    if choice in (SYSTEM, GLIBC_TUNED):
        return choice
    found = available_allocators(dirs)
    if choice in LIBRARIES:
        named = [a for a in found if a.name == choice]
        if named:
            return named[0]
        where = ", ".join(map(str, dirs or search_dirs()))
        warnings.warn(f"{CHOICE}={choice}: no {choice} library found in {where}; "
                      "using the best one available", AllocatorWarning, stacklevel=3)
    elif choice and choice != "auto":
        path = Path(choice).expanduser()
        if _is_elf(path):
            return Allocator(name_of(path), path.resolve())
        warnings.warn(f"{CHOICE}={choice}: not a shared library (missing or unreadable); "
                      "using the best allocator available instead", AllocatorWarning, stacklevel=3)
    return found[0] if found else GLIBC_TUNED


def preloads(path: Path) -> bool:
    """True when the dynamic loader accepts ``path`` as a preload (right architecture, loadable)."""
    env = {**os.environ, "LD_PRELOAD": str(path)}
    try:
        done = subprocess.run([sys.executable, "-S", "-c", "pass"], env=env, capture_output=True, text=True,
                              timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and "preloaded" not in done.stderr and "ERROR" not in done.stderr


def allocator_environment(choice: str, env: Mapping[str, str],
                          dirs: Sequence[Path] | None = None) -> dict[str, str]:
    """``env`` changed to run under ``choice`` (a name, a path, ``glibc-tuned`` or ``system``).

    The result carries the marker ``REARING_ALLOCATOR_LOADED``. A library the loader rejects is
    skipped with a warning, for the next one found or ``glibc-tuned``.
    """
    out = dict(env)
    resolved = _resolve(choice, dirs)
    if isinstance(resolved, Allocator) and not preloads(resolved.path):
        warnings.warn(f"{resolved.path}: the dynamic loader cannot preload it; falling back",
                      AllocatorWarning, stacklevel=2)
        rest = [a for a in available_allocators(dirs) if a.path != resolved.path and preloads(a.path)]
        resolved = rest[0] if rest else GLIBC_TUNED
    if isinstance(resolved, Allocator):
        out["LD_PRELOAD"] = ":".join(p for p in (str(resolved.path), env.get("LD_PRELOAD", "")) if p)
        name = resolved.name
    else:
        name = resolved
    for key, value in TUNING.get(name, {}).items():
        out.setdefault(key, value)
    out[LOADED] = name
    return out


def ensure_allocator(argv: Sequence[str] | None = None) -> str:
    """Re-execute this process under the best allocator, once; returns the allocator in use.

    ``argv`` is the interpreter's command line to run again (default ``sys.orig_argv``, which
    keeps ``-m``/``-c``). Call it first thing in a command's entry point, never inside a library
    call: the process image is replaced. Does nothing off Linux, when the marker is set, or for a
    program read from standard input.
    """
    if os.environ.get(LOADED):
        return os.environ[LOADED]
    argv = list(argv or sys.orig_argv)
    if not sys.platform.startswith("linux") or len(argv) < 2 or argv[1] == "-":
        os.environ[LOADED] = SYSTEM  # off Linux, or a program read from stdin that cannot be read twice
        return SYSTEM
    env = allocator_environment(os.environ.get(CHOICE, ""), os.environ)
    if env[LOADED] == SYSTEM:
        os.environ[LOADED] = SYSTEM
        return SYSTEM
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(sys.executable, argv, env)
    except OSError as error:
        warnings.warn(f"could not restart under {env[LOADED]} ({error}); continuing with glibc",
                      AllocatorWarning, stacklevel=2)
    os.environ[LOADED] = SYSTEM
    return SYSTEM


# ---- installation ------------------------------------------------------------------------------

def _run(cmd: Sequence[str], cwd: Path) -> bool:
    try:
        done = subprocess.run(list(cmd), cwd=cwd, capture_output=True, timeout=300, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _from_debian(name: str, work: Path) -> Path | None:
    """The library out of Debian's package: ``apt-get download`` and ``dpkg-deb -x`` need no root."""
    if not (shutil.which("apt-get") and shutil.which("dpkg-deb")):
        return None
    if not _run(["apt-get", "download", DEBIAN_PACKAGES[name]], work):
        return None
    for deb in work.glob(f"{DEBIAN_PACKAGES[name]}_*.deb"):
        if _run(["dpkg-deb", "-x", str(deb), str(work / "root")], work):
            return _pick(work / "root", name)
    return None


def _from_pypi(name: str, work: Path) -> Path | None:
    """The library out of a PyPI wheel that ships it (only downloaded, never installed)."""
    if not _run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                 "--dest", str(work), PYPI_PACKAGES[name]], work):
        return None
    for wheel in work.glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(work / "root")
        return _pick(work / "root", name)
    return None


def _pick(root: Path, name: str) -> Path | None:
    for file in LIBRARIES[name]:
        hits = sorted(root.rglob(file))
        if hits:
            return hits[0].resolve()
    return None


def install_allocator(venv_dir: str | Path | None = None) -> Path | None:
    """Put every allocator obtainable into ``VENV/lib/rearing-alloc``; returns the preferred one.

    Tries Debian's packages (tcmalloc, jemalloc), then PyPI (mimalloc); whatever fails is only
    reported. None means no faster allocator here: training then runs with glibc-tuned.
    """
    target = Path(venv_dir or sys.prefix) / LIB_DIR
    dirs = [target, *search_dirs()]
    have = {a.name: a for a in available_allocators(dirs)}
    sources = (("Debian", _from_debian, DEBIAN_PACKAGES), ("PyPI", _from_pypi, PYPI_PACKAGES))
    for name in LIBRARIES:
        if name in have:
            print(f"allocator: {name} already at {have[name].path}")
            continue
        for label, fetch, table in sources:
            if name not in table:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                library = fetch(name, Path(tmp))
                if library is None:
                    continue
                target.mkdir(parents=True, exist_ok=True)
                dest = target / LIBRARIES[name][0]
                shutil.copyfile(library, dest)
                if preloads(dest):
                    print(f"allocator: installed {name} from {label} ({table[name]}) to {dest}")
                    break
                dest.unlink()
        else:
            print(f"allocator: {name} not obtainable here")
    best = available_allocators(dirs)
    if not best:
        print("allocator: none installed; training falls back to glibc-tuned")
        return None
    print(f"allocator: training will use {best[0].name} ({best[0].path})")
    return best[0].path


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["install"]:
        try:
            install_allocator(args[1] if len(args) > 1 else None)
        except Exception as error:  # noqa: BLE001 - installing a faster malloc must never break the set-up
            print(f"allocator: install failed ({error}); training falls back to glibc-tuned")
        return 0
    if args[:1] == ["show"]:
        for allocator in available_allocators():
            print(f"{allocator.name}\t{allocator.path}")
        env = allocator_environment(os.environ.get(CHOICE, ""), {})
        print(f"would use: {env[LOADED]}")
        return 0
    print("usage: python -m rearing.train.allocator install [VENV_DIR] | show", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
