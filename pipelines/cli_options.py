"""What every ``prism`` command shares: the ``--config`` option and loading the file."""

from __future__ import annotations

import os
from pathlib import Path

import click

from contracts.config import ConfigError, PrismConfig, load_config

CONFIG_OPTION = click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    default=lambda: os.environ.get("PRISM_CONFIG", "prism.yaml"),
    show_default="prism.yaml or $PRISM_CONFIG",
    help="Prism configuration file.",
)


def load(config_file: Path) -> PrismConfig:
    """The configuration, or a CLI error naming the key path and reason."""
    try:
        return load_config(config_file)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
