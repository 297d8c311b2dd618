"""bot/xlsx.py: what it writes reads back (openpyxl) as XlsxWriter's workbook of the same
rows does, cell for cell, with text people typed kept as text, whatever characters it has."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import xlsxwriter
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from bot import xlsx
from bot.xlsx import Table

HEADERS = ("时间", "Text", "Day", "Flag", "Count", "Yuan")
ROWS: list[tuple[Any, ...]] = [
    (datetime(2026, 3, 1, 9, 30), "县委", date(2026, 3, 1), True, 3, 2.5),
    (datetime(2026, 12, 31, 23, 59), "=SUM(A1:A2)", date(1999, 12, 31), False, 0, 0.1),
    (None, "https://example.org 请阅", None, None, None, None),
    (datetime(2026, 1, 1), "<b>&amp;</b> \"'", date(2026, 1, 1), True, -7, 1e-5),
    (datetime(2026, 6, 1, 8), " leading and trailing ", None, False, 10**12, 1234567.891),
    (datetime(2026, 6, 2, 8), "a\tb\nc\x01d\x1fe", None, None, 1, None),
    (datetime(2026, 6, 3, 8), "_x0041_ stays as typed", None, None, 2, None),
    (datetime(2026, 6, 4, 8), "县委", None, None, 3, None),  # a repeated text
    (datetime(2026, 6, 5, 8), "长" * 40_000, None, None, 4, None),  # over Excel's cell
]


def _ours(tables: list[Table]) -> bytes:
    return xlsx.workbook(tables)


def _theirs(tables: list[Table]) -> bytes:
    """The same tables written by XlsxWriter, as bot/export.py did before bot/xlsx.py."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    for table in tables:
        page = book.add_worksheet(table.name)
        for index, width in enumerate(table.widths):
            page.set_column(index, index, width)
        page.freeze_panes(1, 0)
        page.autofilter(0, 0, len(table.rows), len(table.headers) - 1)
        page.write_row(0, 0, table.headers)
        for number, row in enumerate(table.rows, start=1):
            for column, value in enumerate(row):
                if isinstance(value, datetime):
                    page.write_datetime(number, column, value, moment)
                elif isinstance(value, date):
                    page.write_datetime(number, column, value, day)
                elif isinstance(value, str):
                    page.write_string(number, column, value)
                elif isinstance(value, bool):
                    page.write_boolean(number, column, value)
                elif value is not None:
                    page.write_number(number, column, value)
    book.close()
    return buffer.getvalue()


def _cells(page: Worksheet) -> dict[str, tuple[Any, str, str]]:
    return {
        cell.coordinate: (cell.value, cell.data_type, cell.number_format)
        for row in page.iter_rows()
        for cell in row
    }


def test_the_workbook_reads_back_as_xlsxwriters_does() -> None:
    tables = [
        Table("通知", HEADERS, [20.0, 30.0, 12.0, 8.0, 8.0, 10.0], ROWS),
        Table("Bob's sheet", ("Only", "headers"), [15.5, 9.0], []),
    ]
    ours = load_workbook(io.BytesIO(_ours(tables)))
    theirs = load_workbook(io.BytesIO(_theirs(tables)))
    assert ours.sheetnames == theirs.sheetnames == ["通知", "Bob's sheet"]
    for name in ours.sheetnames:
        mine, reference = ours[name], theirs[name]
        cells, expected = _cells(mine), _cells(reference)
        # Both write "_x0041_" escaped (_x005F_x0041_, else Excel reads "A"); openpyxl undoes
        # that in shared strings (ours) but not in inline ones (XlsxWriter's): checked below.
        expected.pop("B8", None)
        assert {at: cell for at, cell in cells.items() if at in expected} == expected
        assert set(cells) == set(expected) | ({"B8"} if name == "通知" else set())
        assert mine.freeze_panes == reference.freeze_panes == "A2"
        assert mine.auto_filter.ref == reference.auto_filter.ref
        assert mine.dimensions == reference.dimensions
    page = ours["通知"]
    assert [cell.value for cell in page[1]] == list(HEADERS)
    assert page["B3"].value == "=SUM(A1:A2)"
    assert page["B3"].data_type == "s"
    assert page["B6"].value == " leading and trailing "
    # Control characters XML cannot hold are written as Excel does (_x0001_; Excel shows
    # the character, openpyxl the escape), as XlsxWriter writes them (compared above).
    assert page["B7"].value == "a\tb\nc_x0001_d_x001F_e"
    assert page["B8"].value == "_x0041_ stays as typed"
    assert page["B10"].value == "长" * 32_767
    assert page["A2"].value == datetime(2026, 3, 1, 9, 30)
    assert page["A2"].number_format == "yyyy-mm-dd hh:mm"
    assert page["C2"].number_format == "yyyy-mm-dd"
    assert page.auto_filter.ref == "A1:F10"
    assert [page.column_dimensions[letter].width for letter in "ABF"] == [20.0, 30.0, 10.0]
    assert ours["Bob's sheet"].auto_filter.ref == "A1:B1"
    assert ours.active is not None
    assert ours.active.title == "通知"


def test_column_letters() -> None:
    assert [xlsx.column_letter(n) for n in (0, 25, 26, 51, 52, 701, 702)] == [
        "A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"
    ]  # fmt: skip
