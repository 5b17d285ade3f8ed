"""Headless Chromium (Debian's package) for tests that look at a page as a person would."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = 1200


def chromium_executable() -> str:
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).is_file():
        pytest.fail(
            "Chromium is needed to render the quality report: install the Debian package "
            "`chromium` (apt-get install chromium fonts-dejavu-core; .ci/services does it)"
        )
    return executable


@contextmanager
def chromium() -> Iterator[Browser]:
    """One headless browser for several pages (a launch takes about a second)."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_executable(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def visit(
    browser: Browser,
    page_file: Path,
    screenshot: Path,
    check: Callable[[Page], None],
    width: int = DESKTOP,
    full_page: bool = True,
) -> list[str]:
    """Open ``page_file`` in a ``width`` px wide viewport, run ``check`` on the page, save a
    full-page PNG (or of the viewport where ``check`` left it: a long page takes seconds);
    return the console errors and uncaught page errors seen."""
    errors: list[str] = []
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_file.as_uri())
        check(page)
        page.screenshot(path=screenshot, full_page=full_page)
    finally:
        page.close()
    return errors


def render(
    page_file: Path, screenshot: Path, check: Callable[[Page], None], width: int = DESKTOP
) -> list[str]:
    """``visit`` in a browser of its own."""
    with chromium() as browser:
        return visit(browser, page_file, screenshot, check, width)


def overflow(page: Page) -> int:
    """How many px the page is wider than the viewport (0: no horizontal scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
