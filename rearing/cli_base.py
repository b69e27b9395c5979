"""What every command shares: the console, and how a command picks its experiment config."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from rearing.config import CONFIG_PRESETS, ExperimentConfig, load_config
from rearing.io import InputError

console = Console()


def _config(preset: str | None, config_file: Path | None) -> ExperimentConfig:
    if preset and config_file:
        raise InputError(["--preset and --config are mutually exclusive"])
    return load_config(config_file, preset)


PresetOpt = Annotated[str | None, typer.Option("--preset", "-p", help=f"One of {', '.join(CONFIG_PRESETS)}.")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="An experiment YAML file.")]
RunOpt = Annotated[Path, typer.Option("--run", help="A run directory, e.g. runs/smoke.")]
