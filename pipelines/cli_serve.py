"""``prism serve``: the HTTP feed service over the publish directory (uvicorn)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from contracts.config import ConfigError
from pipelines.cli_options import CONFIG_OPTION, load
from serving.access import AccessConfigError


@click.command()
@CONFIG_OPTION
@click.option("--host", help="Address to listen on (default: serve.host of the configuration).")
@click.option(
    "--port", type=click.IntRange(0, 65535), help="Port (default: serve.port of the configuration)."
)
def serve(config_file: Path, host: str | None, port: int | None) -> None:
    """Serve the live snapshot's channel feeds over HTTP, per channel token or OIDC token.

    Switches to a newly published snapshot once it has loaded and verified (and keeps serving
    the previous one if it does not); every response names its snapshot in X-Prism-Snapshot.
    """
    import uvicorn

    from serving.app import create_app

    config = load(config_file)
    try:
        app = create_app(config.publish.directory, config.serve, list(config.channels), os.environ)
    except AccessConfigError as error:  # e.g. a token variable is not set: exit CONFIG
        raise ConfigError(f"{config_file}: {error}") from None
    uvicorn.run(
        app,
        host=host or config.serve.host,
        port=config.serve.port if port is None else port,
        log_level="info",
    )
