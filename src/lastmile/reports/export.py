"""The summary as CSV (RFC 4180): one row per group and a last row of totals."""

from __future__ import annotations

import csv
import io
from typing import Any

from lastmile.driver.models import FailureReason
from lastmile.reports.schemas import ReportRow, ReportSummary

FIELDS = [name for name in ReportRow.model_fields if name != "failure_reasons"]
REASON_COLUMNS = {f"failed_{reason.value}": reason.value for reason in FailureReason}
COLUMNS = [*FIELDS, *REASON_COLUMNS]
# A spreadsheet runs a cell that starts like a formula; names come from users.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return f"'{value}"
    return value


def _values(row: ReportRow) -> list[Any]:
    data = row.model_dump()
    reasons = data["failure_reasons"]
    return [_cell(data[name]) for name in FIELDS] + [
        reasons.get(code, 0) for code in REASON_COLUMNS.values()
    ]


def summary_csv(summary: ReportSummary) -> str:
    """Header, the groups, then the totals (key empty, label "Total"); numbers unformatted."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180: CRLF, quotes where needed
    writer.writerow(COLUMNS)
    for row in [*summary.rows, summary.totals]:
        writer.writerow(_values(row))
    return out.getvalue()


def csv_filename(summary: ReportSummary) -> str:
    return f"lastmile-report-{summary.group_by.value}-{summary.from_}-{summary.to}.csv"
