"""Files people write by hand (class lists, examiners' marks): read them, or say on one line why not.

CSV files may come from a spreadsheet: a byte-order mark, ``;`` or tabs instead of commas, column
names in any case and blank lines are all accepted.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from .errors import UserError


def read_text(path: Path, what: str) -> str:
    if not path.is_file():
        raise UserError(f"{what} {path}: no such file")
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{what} {path}: cannot read it ({exc})") from None


def csv_rows(path: Path, text: str, what: str, required: set[str], columns: str) -> list[tuple[str, dict[str, str]]]:
    """("line N", {column: value}) for each non-blank row; ``columns`` says what the header holds."""
    try:
        dialect = csv.Sniffer().sniff(text[:2048], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    if not required <= {f.strip().lower() for f in reader.fieldnames or []}:
        raise UserError(f"{what} {path}: the first line must name the columns ({columns})")
    rows = []
    for number, row in enumerate(reader, 2):
        if None in row:
            raise UserError(f"{what} {path}: line {number}: more values than columns")
        clean = {k.strip().lower(): (v or "").strip() for k, v in row.items()}
        if any(clean.values()):
            rows.append((f"line {number}", clean))
    return rows
