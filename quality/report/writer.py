"""Write a report folder's pages so a reader never sees a half-written one.

``index.html`` is replaced atomically (a temporary file renamed over it); the lookup pages are
written into a fresh hidden folder that then takes the place of ``quarantine/``, so a retry
leaves no page of an earlier, longer quarantine behind. Files get the mode any new file gets
(``0o666 & ~umask``, 0644 with the usual umask), like the rest of the report folder: a web
server or a file share can serve them.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterable
from pathlib import Path

from quality.report.lookup import FOLDER
from quality.report.model import QualityReport
from quality.report.render import Lookup, render_pages, render_report

INDEX = "index.html"


def write_report(report: QualityReport, folder: Path) -> Path:
    """Write ``folder/quarantine/*.html`` then ``folder/index.html``; return the index."""
    folder.mkdir(parents=True, exist_ok=True)
    lookup = Lookup.of(report)
    replace_folder(folder / FOLDER, render_pages(report, lookup), prefix=f"{FOLDER}/")
    target = folder / INDEX
    write_atomically(target, render_report(report, lookup))
    return target


def write_atomically(target: Path, text: str) -> None:
    """``text`` (UTF-8) at ``target`` through a temporary file in the same folder."""
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    # os.open applies the umask to 0o666, as open() does for any new file (mkstemp: 0o600).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def replace_folder(target: Path, documents: Iterable[tuple[str, str]], prefix: str) -> None:
    """``target`` holding exactly ``documents`` ((path, text), paths starting with ``prefix``)."""
    token = secrets.token_hex(6)
    fresh = target.with_name(f".{target.name}.{token}.tmp")
    old = target.with_name(f".{target.name}.{token}.old")
    fresh.mkdir()
    try:
        for path, text in documents:
            (fresh / path.removeprefix(prefix)).write_text(text, encoding="utf-8")
        if target.exists():
            target.rename(old)
        fresh.rename(target)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
