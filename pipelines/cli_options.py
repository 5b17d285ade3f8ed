"""What every ``prism`` command shares: the ``--config`` option and loading the file.

A configuration problem is raised as ``contracts.config.ConfigError`` (the message names the
file, line, key path and reason of each problem); the ``prism`` command turns it into its
configuration exit code.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from contracts.config import ConfigError, ConfigFile, PrismConfig, read_config

CONFIG_VARIABLE = "PRISM_CONFIG"
CONFIG_OPTION = click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    default=lambda: os.environ.get(CONFIG_VARIABLE, "prism.yaml"),
    show_default=f"prism.yaml or ${CONFIG_VARIABLE}",
    help="Prism configuration file.",
)


def load(config_file: Path) -> PrismConfig:
    """The configuration; ``ConfigError`` naming each problem's line, key path and reason."""
    return read(config_file).config


def read(config_file: Path) -> ConfigFile:
    """The configuration with where its keys are (for checks that report at a key's line)."""
    if not config_file.exists():
        msg = f"{config_file}: configuration file not found (choose one with --config or "
        msg += f"${CONFIG_VARIABLE})"
        raise ConfigError(msg)
    return read_config(config_file)
