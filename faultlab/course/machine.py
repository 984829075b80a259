"""What ``faultlab doctor`` says about this machine, as a table a notebook can show.

The rows differ from machine to machine, so notebooks show this in a cell whose
output is not compared by nbval.
"""
from __future__ import annotations

import html

COLORS = {"OK": "#2CA02C", "WARN": "#FF7F0E", "MISSING": "#D62728"}


class DoctorReport:
    """The doctor's checks; shows as an HTML table in a notebook and as text elsewhere."""

    def __init__(self, checks, summary):
        self.checks, self.summary = checks, summary

    def __str__(self):
        from ..doctor import format_table
        return format_table(self.checks) + "\n\n" + "\n".join(self.summary)

    def _repr_html_(self):
        rows = []
        for c in self.checks:
            fix = f"<br><code>{html.escape(c.fix)}</code>" if c.status != "OK" and c.fix else ""
            rows.append(f"<tr><td>{html.escape(c.name)}</td><td>{html.escape(c.group)}</td>"
                        f"<td style='color:{COLORS.get(c.status, '#333')};font-weight:bold'>{c.status}</td>"
                        f"<td style='text-align:left'>{html.escape(c.detail)}{fix}</td></tr>")
        head = "<tr><th>check</th><th>part of the course</th><th>status</th><th>detail</th></tr>"
        summary = "".join(f"<li>{html.escape(s)}</li>" for s in self.summary)
        return (f"<table style='font-size:12px'>{head}{''.join(rows)}</table>"
                f"<ul style='margin-top:6px'>{summary}</ul>")

    def __repr__(self):
        return str(self)


def doctor_report():
    """Run ``faultlab doctor``'s checks (a second or two) and return them for display."""
    from ..doctor import run_checks, summary
    checks = run_checks()
    return DoctorReport(checks, summary(checks))
