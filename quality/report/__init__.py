"""The merchandisers' quality report of a snapshot: ``index.html`` and the lookup pages.

``QualityReport`` (``model``) holds what the gate measured; ``sections``,
``quarantine_summary`` and ``lookup`` turn its frames into plain rows, ``charts`` into SVG
geometry, ``numbers`` formats in the report locale and ``wording`` puts rules in plain words;
``render`` fills the jinja2 templates (``templates/``, CSS in ``static/``) and ``writer``
writes the folder.
"""

from __future__ import annotations

from quality.report.model import QualityReport
from quality.report.render import render_pages, render_report
from quality.report.writer import write_report

__all__ = ["QualityReport", "render_pages", "render_report", "write_report"]
