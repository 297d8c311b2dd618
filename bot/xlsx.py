"""A small XLSX writer for tables: the export's workbook without a library call per cell.

A county-year export is 2.6 million cells. XlsxWriter (constant_memory) spent ~5 µs of
Python on each (a call, a dimension check, an escape with two regular expressions, an XML
write): 12-13 s, over the 10 s goal by itself; openpyxl's write-only mode is slower still
(~9 s per 100,000 rows of ten cells).
Here a row is one string: every distinct text of a column is escaped and numbered once
(shared strings), a cell is a dictionary look-up and a format. Each sheet has a header
row that is frozen and filtered, columns of given widths, and two date formats; text
stays text (no formulas or links are made of what people typed). Values: str, int,
float, bool, datetime (naive, shown "yyyy-mm-dd hh:mm"), date ("yyyy-mm-dd"), None
(an empty cell). tests/bot/test_xlsx.py reads what it writes back with openpyxl and
holds it to what XlsxWriter writes for the same rows.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape, quoteattr

__all__ = ["Table", "column_letter", "workbook"]

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_EPOCH = datetime(1899, 12, 30)  # Excel's day 0 (with its 1900 leap-year bug folded in)
_DAY = timedelta(days=1)
_EPOCH_DAY = _EPOCH.date()
_MOMENT_STYLE = 1  # the cellXfs index of "yyyy-mm-dd hh:mm"
_DAY_STYLE = 2  # and of "yyyy-mm-dd"
_CHUNK = 2000  # rows written to the zip at a time
_MAX_TEXT = 32767  # characters Excel holds in a cell (XlsxWriter cuts there too)
# Characters XML 1.0 cannot hold; OOXML writes them as _xHHHH_ (and a literal _xHHHH_ as
# _x005F_xHHHH_, so it reads back unchanged).
_CONTROL = re.compile(r"_x[0-9A-Fa-f]{4}_|[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True, slots=True)
class Table:
    """One worksheet: its name, header texts, column widths and rows of cell values."""

    name: str
    headers: Sequence[str]
    widths: Sequence[float]
    rows: Sequence[Sequence[Any]]


def column_letter(index: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA"."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def workbook(tables: Iterable[Table]) -> bytes:
    """The .xlsx file of these tables, in this order."""
    tables = list(tables)
    strings = _Strings()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as book:
        for number, table in enumerate(tables, start=1):
            with book.open(f"xl/worksheets/sheet{number}.xml", "w") as part:
                for piece in _sheet(table, strings, first=number == 1):
                    part.write(piece.encode())
        book.writestr("xl/sharedStrings.xml", strings.xml())
        book.writestr("xl/styles.xml", _STYLES)
        book.writestr("xl/workbook.xml", _workbook_xml(tables))
        book.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(tables)))
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr("[Content_Types].xml", _content_types(len(tables)))
    return buffer.getvalue()


class _Strings:
    """The shared-string table: each distinct text once, cells refer to it by number."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}

    def cell(self, text: str) -> str:
        """The end of a cell holding ``text`` (after its reference)."""
        number = self.numbers.setdefault(text[:_MAX_TEXT], len(self.numbers))
        return f' t="s"><v>{number}</v></c>'

    def xml(self) -> str:
        items = "".join(f"<si>{_text(text)}</si>" for text in self.numbers)
        return f'{_HEAD}<sst xmlns="{_MAIN}">{items}</sst>'


def _text(text: str) -> str:
    text = _CONTROL.sub(_control, text)
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f"<t{space}>{escape(text)}</t>"


def _control(match: re.Match[str]) -> str:
    found = match.group()
    return f"_x005F{found}" if len(found) > 1 else f"_x{ord(found):04X}_"


def _value(value: Any, strings: _Strings) -> str:
    """The end of a cell holding ``value`` (not None)."""
    if isinstance(value, str):
        return strings.cell(value)
    if isinstance(value, bool):
        return f' t="b"><v>{int(value)}</v></c>'
    if isinstance(value, datetime):
        serial = (value.replace(tzinfo=None) - _EPOCH) / _DAY
        return f' s="{_MOMENT_STYLE}"><v>{serial!r}</v></c>'
    if isinstance(value, date):
        return f' s="{_DAY_STYLE}"><v>{(value - _EPOCH_DAY).days}</v></c>'
    if isinstance(value, int | float):
        return f"><v>{value!r}</v></c>"
    raise TypeError(f"no cell for {type(value).__name__}")


def _sheet(table: Table, strings: _Strings, *, first: bool) -> Iterable[str]:
    letters = [column_letter(index) for index in range(len(table.headers))]
    last = f"{letters[-1]}{len(table.rows) + 1}"
    selected = ' tabSelected="1"' if first else ""
    cols = "".join(
        f'<col min="{n}" max="{n}" width="{width:.2f}" customWidth="1"/>'
        for n, width in enumerate(table.widths, start=1)
    )
    yield (
        f'{_HEAD}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><dimension ref="A1:{last}"/>'
        f'<sheetViews><sheetView{selected} workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData><row r="1">'
        + "".join(
            f'<c r="{letter}1"{strings.cell(header)}'
            for letter, header in zip(letters, table.headers, strict=True)
        )
        + "</row>"
    )
    texts: list[dict[str, str]] = [{} for _ in letters]  # per column: text -> cell end
    rows = table.rows
    for start in range(0, len(rows), _CHUNK):
        parts: list[str] = []
        for number, row in enumerate(rows[start : start + _CHUNK], start=start + 2):
            parts.append(f'<row r="{number}">')
            for letter, seen, value in zip(letters, texts, row, strict=True):
                if value is None:
                    continue
                end = seen.get(value) if isinstance(value, str) else None
                if end is None:
                    end = _value(value, strings)
                    if isinstance(value, str):
                        seen[value] = end
                parts.append(f'<c r="{letter}{number}"{end}')
            parts.append("</row>")
        yield "".join(parts)
    yield (
        f'</sheetData><autoFilter ref="A1:{last}"/>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3"'
        ' footer="0.3"/></worksheet>'
    )


def _workbook_xml(tables: Sequence[Table]) -> str:
    sheets = "".join(
        f'<sheet name={quoteattr(table.name)} sheetId="{n}" r:id="rId{n}"/>'
        for n, table in enumerate(tables, start=1)
    )
    filters = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
        + escape(_quoted(table.name))
        + f"!$A$1:${column_letter(len(table.headers) - 1)}${len(table.rows) + 1}</definedName>"
        for n, table in enumerate(tables)
    )
    return (
        f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><bookViews>'
        '<workbookView activeTab="0"/></bookViews>'
        f"<sheets>{sheets}</sheets><definedNames>{filters}</definedNames></workbook>"
    )


def _quoted(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _workbook_rels(count: int) -> str:
    sheets = "".join(
        f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, count + 1)
    )
    return (
        f'{_HEAD}<Relationships xmlns="{_PKG_REL}">{sheets}'
        f'<Relationship Id="rId{count + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
        f'<Relationship Id="rId{count + 2}" Type="{_REL}/sharedStrings"'
        ' Target="sharedStrings.xml"/></Relationships>'
    )


def _content_types(count: int) -> str:
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{_TYPE}.worksheet+xml"/>'
        for n in range(1, count + 1)
    )
    return (
        f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels"'
        ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPE}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_TYPE}.styles+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_TYPE}.sharedStrings+xml"/>'
        f"{sheets}</Types>"
    )


_ROOT_RELS = (
    f'{_HEAD}<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1"'
    f' Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_STYLES = (
    f'{_HEAD}<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/>'
    '<scheme val="minor"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    "</cellStyleXfs>"
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
