"""Headless Chromium (Debian's package) for tests that look at a page as a person would."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_executable() -> str:
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).is_file():
        pytest.fail(
            "Chromium is needed to render the quality report: install the Debian package "
            "`chromium` (apt-get install chromium fonts-dejavu-core; .ci/services does it)"
        )
    return executable


def render(page_file: Path, screenshot: Path, check: Callable[[Page], None]) -> list[str]:
    """Open ``page_file``, run ``check`` on the page, save a full-page PNG; return the console
    errors and uncaught page errors seen."""
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_executable(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_file.as_uri())
            check(page)
            page.screenshot(path=screenshot, full_page=True)
        finally:
            browser.close()
    return errors
