"""Read a county's party-member roster spreadsheet into validated rows.

Counties keep their rosters in spreadsheets exported by office software (Excel, WPS), with
title rows, merged two-row headers, full-width digits and every date format people type.
This module turns such a file into `RosterRow`s plus a list of `RowProblem`s that staff can
fix, so that importing never guesses silently. It is pure: no database, no Telegram.

National ID numbers are never read into the result: their columns are dropped, and an
ID-like value that turns up in another column is masked before it is echoed in a message.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Any, Final, cast
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.datetime import from_excel
from openpyxl.xml.functions import iterparse

from bot.i18n import N_
from storage.models import Gender, MemberStatus

__all__ = [
    "MAX_COLUMNS",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "MAX_UNPACKED_BYTES",
    "Cell",
    "Grid",
    "ParsedRoster",
    "RosterFileError",
    "RosterRow",
    "RowProblem",
    "cell_text",
    "normalise_header",
    "normalise_phone",
    "parse_date",
    "read_grids",
    "read_roster",
]

# --- Data the parser must recognise (header aliases and cell words) -------------------------

#: Header aliases per field, best first: when two columns map to one field, the better wins.
HEADER_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "name": ("姓名", "名字", "name", "full name"),
    "gender": ("性别", "gender", "sex"),
    "phone": (
        "手机号码",
        "手机号",
        "手机",
        "联系电话",
        "电话",
        "phone",
        "mobile",
        "phone number",
        "mobile phone",
    ),
    "branch": ("所在党支部", "所在党组织", "党支部", "支部", "branch", "party branch"),
    "township": ("所属乡镇", "乡镇党委", "乡镇", "township"),
    "status": ("人员类别", "党员类别", "类别", "党员状态", "status", "member status"),
    "joined_on": ("入党时间", "入党日期", "加入党组织日期", "joined", "joined_on", "joined on"),
    "party_group": ("党小组", "party group", "party_group"),
}

#: Headers of columns that carry national ID numbers; such columns are dropped unread.
SENSITIVE_HEADER_ALIASES: Final[tuple[str, ...]] = (
    "身份证号",
    "身份证号码",
    "公民身份号码",
    "身份证",
    "身份证件号码",
    "证件号码",
    "id card",
    "id_card",
    "id number",
    "id_number",
    "national id",
)
#: Any header containing one of these is a national ID column too.
SENSITIVE_HEADER_PARTS: Final[tuple[str, ...]] = ("身份证", "身份号码")

GENDER_WORDS: Final[dict[str, Gender]] = {
    "男": Gender.MALE,
    "男性": Gender.MALE,
    "male": Gender.MALE,
    "m": Gender.MALE,
    "女": Gender.FEMALE,
    "女性": Gender.FEMALE,
    "female": Gender.FEMALE,
    "f": Gender.FEMALE,
}

STATUS_WORDS: Final[dict[str, MemberStatus]] = {
    "正式党员": MemberStatus.FULL,
    "正式": MemberStatus.FULL,
    "预备党员": MemberStatus.PROBATIONARY,
    "预备": MemberStatus.PROBATIONARY,
    "发展对象": MemberStatus.DEVELOPMENT_TARGET,
    "入党积极分子": MemberStatus.ACTIVIST,
    "积极分子": MemberStatus.ACTIVIST,
    "full": MemberStatus.FULL,
    "full member": MemberStatus.FULL,
    "probationary": MemberStatus.PROBATIONARY,
    "probationary member": MemberStatus.PROBATIONARY,
    "development target": MemberStatus.DEVELOPMENT_TARGET,
    "development_target": MemberStatus.DEVELOPMENT_TARGET,
    "activist": MemberStatus.ACTIVIST,
}

#: Date separators people type between year, month and day ("年", "月", "日" included).
DATE_YEAR_MARK: Final = "年"
DATE_MONTH_MARK: Final = "月"
DATE_DAY_MARK: Final = "日"

# --- Limits and constants ------------------------------------------------------------------

REQUIRED_FIELDS: Final = ("name", "branch", "status")
#: The largest roster file taken, in bytes (README: "Roster files").
MAX_FILE_BYTES: Final = 5 * 1024 * 1024
#: An .xlsx is a zip: the most its parts may unpack to, so a small file cannot hide a huge one.
MAX_UNPACKED_BYTES: Final = 100 * 1024 * 1024
#: Rows per sheet (title and header rows included), counted as they stream in: reading
#: stops at the first row beyond, whatever the sheet's dimension claims.
MAX_ROWS: Final = 50_000
#: Columns per row; a roster has a dozen or two.
MAX_COLUMNS: Final = 100
HEADER_SCAN_ROWS: Final = 10
PARTY_FOUNDED: Final = date(1921, 7, 1)
LOCAL_TZ: Final = ZoneInfo("Asia/Shanghai")
_SENSITIVE: Final = "<sensitive>"
_XLSX_SUFFIXES: Final = frozenset({".xlsx", ".xlsm"})
_CSV_SUFFIXES: Final = frozenset({".csv"})
_OLD_EXCEL_SUFFIXES: Final = frozenset({".xls", ".et", ".wps"})

_ID_NUMBER: Final = re.compile(r"\d{17}[\dX]", re.IGNORECASE)
_ID_IN_TEXT: Final = re.compile(r"(?<!\d)\d{17}[\dX](?![\dA-Za-z])", re.IGNORECASE)
_MOBILE: Final = re.compile(r"(?:\+86|0086|86)?(1[3-9]\d{9})")
_PHONE_SEPARATORS: Final = re.compile(r"[\s\-–—.()]")
_HEADER_NOTE: Final = re.compile(r"[(\[【〔][^)\]】〕]*[)\]】〕]")
_JOINERS: Final = re.compile(r"[\s_\-]+")
_FULL_DATE: Final = re.compile(
    rf"(\d{{4}})\s*[-/.{DATE_YEAR_MARK}]\s*(\d{{1,2}})\s*[-/.{DATE_MONTH_MARK}]\s*(\d{{1,2}})"
    rf"\s*{DATE_DAY_MARK}?(?:\s+\d{{1,2}}:\d{{2}}(?::\d{{2}})?)?"
)
_YEAR_MONTH: Final = re.compile(
    rf"(\d{{4}})\s*[-/.{DATE_YEAR_MARK}]\s*(\d{{1,2}})\s*{DATE_MONTH_MARK}?"
)
_COMPACT_DATE: Final = re.compile(r"(\d{4})(\d{2})(\d{2})?")


# --- Public types --------------------------------------------------------------------------


class RosterFileError(Exception):
    """The file as a whole cannot be read as a roster; nothing in it was imported."""

    def __init__(self, message_id: str, **params: str) -> None:
        super().__init__(message_id.format(**params))
        self.message_id = message_id
        self.params: dict[str, str] = params

    def render(self, translate: Callable[[str], str]) -> str:
        """The message in the reader's language."""
        return translate(self.message_id).format(**self.params)


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One member as the roster states it, normalised."""

    row_number: int
    name: str
    gender: Gender
    phone: str | None
    township: str | None
    branch: str
    status: MemberStatus
    joined_on: date | None
    party_group: str | None


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Something staff must fix in one row; `params` never carries an ID number."""

    row_number: int
    field: str
    code: str
    message_id: str
    params: dict[str, str]

    def render(self, translate: Callable[[str], str]) -> str:
        """The message in the reader's language, with the row number filled in."""
        return translate(self.message_id).format(row=self.row_number, **self.params)


@dataclass(frozen=True, slots=True)
class ParsedRoster:
    """Everything read from one file: rows, their problems, and what was left out."""

    rows: list[RosterRow]
    problems: list[RowProblem]
    ignored_columns: list[str]
    dropped_sensitive_columns: list[str]
    header_row: int

    @property
    def bad_row_numbers(self) -> set[int]:
        """Rows with at least one problem."""
        return {problem.row_number for problem in self.problems}

    @property
    def good_rows(self) -> list[RosterRow]:
        """Rows that can be imported as they are."""
        bad = self.bad_row_numbers
        return [row for row in self.rows if row.row_number not in bad]


# --- Messages ------------------------------------------------------------------------------

MSG_UNSUPPORTED: Final = N_(
    "The file {filename} is not a roster spreadsheet. Please send an .xlsx or .csv file."
)
MSG_OLD_EXCEL: Final = N_(
    "The file {filename} is in the old .xls format. "
    "Please save it as .xlsx (Excel or WPS: Save As) and send it again."
)
MSG_UNREADABLE: Final = N_(
    "The file {filename} could not be opened. It may be damaged or protected by a password."
)
MSG_NO_HEADER: Final = N_(
    "No header row found in the first {rows} rows of {filename}. "
    "The header row needs a name column and at least one other known column."
)
MSG_MISSING_COLUMNS: Final = N_("The roster is missing required columns: {columns}.")
MSG_FILE_TOO_BIG: Final = N_(
    "The file {filename} is larger than {limit} MB. "
    "Please remove pictures from it or split the roster into several files."
)
MSG_TOO_MANY_ROWS: Final = N_(
    "The file {filename} has more than {limit} rows. "
    "Please split the roster into several files (or delete empty rows at the end)."
)
MSG_TOO_MANY_COLUMNS: Final = N_(
    "The file {filename} has more than {limit} columns in row {row}. "
    "Please keep only the roster's columns."
)
MSG_MIXED_ENCODING: Final = N_(
    "The file {filename} is in UTF-8 except line {line}, which is in another encoding. "
    "Please save the whole file as UTF-8 and send it again."
)

MSG_MISSING_NAME: Final = N_("row {row}: the name is missing")
MSG_MISSING_BRANCH: Final = N_("row {row}: the party branch is missing")
MSG_MISSING_STATUS: Final = N_("row {row}: the member category is missing")
MSG_UNKNOWN_STATUS: Final = N_("row {row}: unknown member category {value}")
MSG_UNKNOWN_GENDER: Final = N_("row {row}: unknown gender {value}")
MSG_BAD_PHONE: Final = N_("row {row}: the phone number {value} is not a mobile number")
MSG_BAD_DATE: Final = N_("row {row}: the date joined {value} is not a valid date")
MSG_FUTURE_DATE: Final = N_("row {row}: the date joined {value} is in the future")
MSG_EARLY_DATE: Final = N_("row {row}: the date joined {value} is before 1 July 1921")
MSG_DUPLICATE_PHONE: Final = N_(
    "row {row}: the phone number {value} is already used in row {earlier}"
)
MSG_ID_NUMBER: Final = N_(
    "row {row}: column {column} holds an ID number; it was removed (ID numbers are not kept)"
)
MSG_DUPLICATE_NAME: Final = N_(
    "row {row}: {value} is listed twice in the same branch (first in row {earlier})"
)


# --- Entry point ---------------------------------------------------------------------------

Cell = object
Grid = list[list[Cell]]


def read_roster(data: bytes, filename: str, *, today: date | None = None) -> ParsedRoster:
    """Read an .xlsx or .csv roster; file-level trouble raises RosterFileError."""
    today = today or datetime.now(LOCAL_TZ).date()
    grids = read_grids(data, filename)
    for grid in grids:
        header = _find_header(grid)
        if header is not None:
            return _parse_grid(grid, header, today)
    raise RosterFileError(MSG_NO_HEADER, rows=str(HEADER_SCAN_ROWS), filename=filename)


# --- Reading files into grids (row i of the grid is spreadsheet row i + 1) -----------------


def read_grids(data: bytes, filename: str, *, unsupported: str = MSG_UNSUPPORTED) -> list[Grid]:
    """Every sheet of an .xlsx, or the one table of a .csv, as grids of cells.

    Shared by every spreadsheet partybot reads (rosters, training funds); file-level
    trouble raises RosterFileError, with `unsupported` as the message for other files.
    Files beyond the limits (MAX_FILE_BYTES, MAX_UNPACKED_BYTES, MAX_ROWS, MAX_COLUMNS) are
    refused with one line, before they can take the memory or time of everyone else.
    """
    if len(data) > MAX_FILE_BYTES:
        raise RosterFileError(MSG_FILE_TOO_BIG, filename=filename, limit=str(MAX_FILE_BYTES >> 20))
    suffix = PurePath(filename).suffix.lower()
    if suffix in _OLD_EXCEL_SUFFIXES:
        raise RosterFileError(MSG_OLD_EXCEL, filename=filename)
    if suffix in _XLSX_SUFFIXES:
        return _read_xlsx(data, filename)
    if suffix in _CSV_SUFFIXES:
        return [_read_csv(data, filename)]
    raise RosterFileError(unsupported, filename=filename)


def _read_xlsx(data: bytes, filename: str) -> list[Grid]:
    """All worksheets as grids, merged ranges filled with their top-left value.

    Streams each sheet with openpyxl's read-only mode and ignores the dimension a sheet
    claims (a few bytes can claim XFD1048576): only rows and cells that are there count.
    """
    _check_unpacked_size(data, filename)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about unsupported extensions
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # zipfile, XML and openpyxl's own errors all mean "unreadable"
        raise RosterFileError(MSG_UNREADABLE, filename=filename) from error
    try:
        grids = []
        for sheet in workbook.worksheets:
            sheet.reset_dimensions()
            grid = _bounded_rows(sheet.iter_rows(values_only=True), filename)
            with workbook._archive.open(sheet._worksheet_path) as source:
                _fill_merged(grid, _merged_ranges(source))
            grids.append(grid)
        return grids
    except RosterFileError:
        raise
    except Exception as error:
        raise RosterFileError(MSG_UNREADABLE, filename=filename) from error
    finally:
        workbook.close()


def _check_unpacked_size(data: bytes, filename: str) -> None:
    """Refuse a zip whose parts would unpack to more than MAX_UNPACKED_BYTES."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as error:
        raise RosterFileError(MSG_UNREADABLE, filename=filename) from error
    if unpacked > MAX_UNPACKED_BYTES:
        raise RosterFileError(MSG_FILE_TOO_BIG, filename=filename, limit=str(MAX_FILE_BYTES >> 20))


def _bounded_rows(rows: Iterable[Sequence[Cell]], filename: str) -> Grid:
    """The rows as a grid, refused at the first row beyond MAX_ROWS or MAX_COLUMNS."""
    grid: Grid = []
    for row in rows:
        if len(grid) == MAX_ROWS:
            raise RosterFileError(MSG_TOO_MANY_ROWS, filename=filename, limit=str(MAX_ROWS))
        cells = list(row)
        while cells and cells[-1] in (None, ""):
            cells.pop()
        if len(cells) > MAX_COLUMNS:
            raise RosterFileError(
                MSG_TOO_MANY_COLUMNS,
                filename=filename,
                limit=str(MAX_COLUMNS),
                row=str(len(grid) + 1),
            )
        grid.append(cells)
    return grid


_MERGE_CELL: Final = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}mergeCell"


def _merged_ranges(source: Any) -> list[tuple[int, int, int, int]]:
    """(min_col, min_row, max_col, max_row) of each merged range, read as a stream."""
    ranges = []
    for _event, element in iterparse(source):
        if element.tag == _MERGE_CELL and element.get("ref"):
            bounds = range_boundaries(element.get("ref"))
            if None not in bounds:
                ranges.append(cast(tuple[int, int, int, int], bounds))
        element.clear()
    return ranges


def _fill_merged(grid: Grid, ranges: Iterable[tuple[int, int, int, int]]) -> None:
    """Every cell of a merged range carries the range's value (within the grid's rows)."""
    for min_col, min_row, max_col, max_row in ranges:
        top, left = min_row - 1, min_col - 1
        if top >= len(grid) or left >= len(grid[top]):
            continue
        value = grid[top][left]
        for row in grid[top : min(max_row, len(grid))]:
            row.extend([None] * (min(max_col, MAX_COLUMNS) - len(row)))
            for column in range(left, min(max_col, len(row))):
                row[column] = value


def _read_csv(data: bytes, filename: str) -> Grid:
    """A CSV file in UTF-8 (with or without BOM), UTF-16 with BOM, or GBK/GB18030.

    Blank lines stay in the grid as empty rows so that row numbers match the file's lines.
    """
    text = _decode(data, filename)
    head = text.split("\n", 1)[0]
    delimiter = "\t" if head.count("\t") > head.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def records() -> Iterable[list[Cell]]:
        start, count = 1, 0
        for record in reader:
            # A quoted field may span lines: a record sits at the line where it starts.
            for _ in range(start - 1 - count):
                count += 1
                yield []
            count += 1
            yield list(record)
            start = reader.line_num + 1

    try:
        return _bounded_rows(records(), filename)
    except csv.Error as error:
        raise RosterFileError(MSG_UNREADABLE, filename=filename) from error


def _decode(data: bytes, filename: str) -> str:
    """Text of a CSV in one encoding: UTF-8 (strict), else GB18030, which covers GBK.

    A file that is UTF-8 but for some lines is refused, naming the first bad line: read as
    GB18030 it would garble every UTF-8 name.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise RosterFileError(MSG_UNREADABLE, filename=filename) from error
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    bad_line = _first_mixed_line(data)
    if bad_line is not None:
        raise RosterFileError(MSG_MIXED_ENCODING, filename=filename, line=str(bad_line))
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as error:
        raise RosterFileError(MSG_UNREADABLE, filename=filename) from error


def _first_mixed_line(data: bytes) -> int | None:
    """The first line that is not UTF-8, if some other line is UTF-8 beyond ASCII."""
    utf8_beyond_ascii = False
    first_bad: int | None = None
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            first_bad = first_bad or number
            continue
        utf8_beyond_ascii = utf8_beyond_ascii or not line.isascii()
    return first_bad if utf8_beyond_ascii else None


# --- Finding the header --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Header:
    """Where the header is and what each column holds."""

    last_row: int  # index into the grid of the header's bottom row
    labels: list[str]  # display label per column ("" for unnamed)
    fields: list[str | None]  # field, _SENSITIVE, or None per column


def normalise_header(text: str) -> str:
    """Comparable form of a header: full-width, spaces, "(required)" notes and ":*" go."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _HEADER_NOTE.sub("", text)
    text = "".join(text.split())
    return _JOINERS.sub("", text).strip(":*")


_ALIAS_FIELD: Final[dict[str, tuple[str, int]]] = {
    normalise_header(alias): (name, rank)
    for name, aliases in HEADER_ALIASES.items()
    for rank, alias in enumerate(aliases)
}
_SENSITIVE_KEYS: Final = frozenset(normalise_header(alias) for alias in SENSITIVE_HEADER_ALIASES)


def _header_field(cell: Cell) -> tuple[str, int] | None:
    """The field a header cell names with its alias rank, (_SENSITIVE, 0), or None."""
    key = normalise_header(cell_text(cell))
    if not key:
        return None
    if key in _SENSITIVE_KEYS or any(part in key for part in SENSITIVE_HEADER_PARTS):
        return (_SENSITIVE, 0)
    return _ALIAS_FIELD.get(key)


def _row_fields(row: Sequence[Cell]) -> set[str]:
    """The known fields a row names, if it were the header."""
    found = {hit[0] for cell in row if (hit := _header_field(cell)) is not None}
    return found - {_SENSITIVE}


def _find_header(grid: Grid) -> _Header | None:
    """First row naming the name column and one more field; a second header row may follow."""
    for index, row in enumerate(grid[:HEADER_SCAN_ROWS]):
        fields = _row_fields(row)
        if "name" not in fields or len(fields) < 2:
            continue
        below = grid[index + 1] if index + 1 < len(grid) else []
        if _second_header_row(row, below):
            return _label_columns(grid[index], below, index + 1)
        above = grid[index - 1] if index > 0 else []
        return _label_columns(above, row, index)
    return None


def _second_header_row(header: Sequence[Cell], row: Sequence[Cell]) -> bool:
    """Whether the row under a header row is a second header row, not the first member.

    Only when it reads like one: nothing but a header word under the name column, no value
    only data has (a phone or ID number), and header words in at least half its cells. So
    a member whose note says "电话" or "无身份证" is never taken for a header.
    """
    texts = [cell_text(cell) for cell in row]
    filled = [text for text in texts if text]
    if not filled:
        return False
    name_column = next(
        (i for i, cell in enumerate(header) if (_header_field(cell) or ("",))[0] == "name"), None
    )
    if name_column is not None and name_column < len(texts):
        under_name = texts[name_column]
        if under_name and _header_field(under_name) is None:
            return False
    if any(normalise_phone(text) or _ID_IN_TEXT.search(text) for text in filled):
        return False
    known = sum(1 for text in filled if _header_field(text) is not None)
    return known * 2 >= len(filled)


def _label_columns(upper: Sequence[Cell], lower: Sequence[Cell], last_row: int) -> _Header:
    """Per column: the lower header cell if it is known, else a known upper one, else lower."""
    width = max(len(upper), len(lower))
    labels: list[str] = []
    ranked: list[tuple[str, int] | None] = []
    for column in range(width):
        low = _clean_label(cell_text(lower[column])) if column < len(lower) else ""
        high = _clean_label(cell_text(upper[column])) if column < len(upper) else ""
        low_field, high_field = _header_field(low), _header_field(high)
        if low_field is None and high_field is not None:
            labels.append(high)
            ranked.append(high_field)
        else:
            labels.append(low)
            ranked.append(low_field)
    return _Header(last_row, labels, _best_columns(ranked))


def _best_columns(ranked: Sequence[tuple[str, int] | None]) -> list[str | None]:
    """Keep one column per field, the one with the best alias (leftmost on a tie)."""
    best: dict[str, tuple[int, int]] = {}
    for column, hit in enumerate(ranked):
        if hit is not None and hit[0] != _SENSITIVE:
            best[hit[0]] = min(best.get(hit[0], (hit[1], column)), (hit[1], column))
    chosen = {column: name for name, (_, column) in best.items()}
    return [
        _SENSITIVE if hit is not None and hit[0] == _SENSITIVE else chosen.get(column)
        for column, hit in enumerate(ranked)
    ]


# --- Parsing the data rows -----------------------------------------------------------------


@dataclass(slots=True)
class _Seen:
    """Earlier rows by phone and by (name, branch, township), for duplicate checks."""

    phones: dict[str, int] = field(default_factory=dict)
    names: dict[tuple[str, str, str], int] = field(default_factory=dict)


def _parse_grid(grid: Grid, header: _Header, today: date) -> ParsedRoster:
    """Turn the rows under the header into RosterRows and problems."""
    data = list(enumerate(grid[header.last_row + 1 :], start=header.last_row + 2))
    fields = _drop_id_columns(header, [row for _, row in data])
    _check_required(fields)
    rows: list[RosterRow] = []
    problems: list[RowProblem] = []
    seen = _Seen()
    for row_number, cells in data:
        values = {
            name: cells[column]
            for column, name in enumerate(fields)
            if name is not None and name != _SENSITIVE and column < len(cells)
        }
        if all(cell_text(value) == "" for value in values.values()):
            continue
        id_columns = [
            _label_of(header, column)
            for column, cell in enumerate(cells)
            if column >= len(fields) or fields[column] != _SENSITIVE
            if _ID_IN_TEXT.search(cell_text(cell).replace(" ", ""))
        ]
        values = {name: _without_id(value) for name, value in values.items()}
        row, row_problems = _parse_row(row_number, values, today)
        for label in _unique(id_columns):
            row_problems.append(
                RowProblem(row_number, "id_number", "id_number", MSG_ID_NUMBER, {"column": label})
            )
        if row is not None:
            row_problems += _duplicates(row, seen)
            rows.append(row)
        problems += row_problems
    return ParsedRoster(
        rows=rows,
        problems=problems,
        ignored_columns=_ignored_columns(header, fields, [row for _, row in data]),
        dropped_sensitive_columns=_unique(
            header.labels[column] or _column_letter(column)
            for column, name in enumerate(fields)
            if name == _SENSITIVE
        ),
        header_row=header.last_row + 1,
    )


def _drop_id_columns(header: _Header, data: Sequence[Sequence[Cell]]) -> list[str | None]:
    """Mark as sensitive every column whose values look like national ID numbers.

    An unknown column goes at the first ID-like value; a known one only when most of its
    values are ID-like, so one slip of the pen does not drop the name column.
    """
    fields = list(header.fields)
    for column, name in enumerate(fields):
        if name == _SENSITIVE:
            continue
        values = [cell_text(row[column]) for row in data if column < len(row)]
        values = [value for value in values if value]
        id_like = sum(1 for value in values if _looks_like_id(value))
        if (name is None and id_like) or (name is not None and id_like * 2 > len(values)):
            fields[column] = _SENSITIVE
    return fields


def _label_of(header: _Header, column: int) -> str:
    """A column's header label, or its letter when it has none."""
    label = header.labels[column] if column < len(header.labels) else ""
    return label or _column_letter(column)


def _check_required(fields: Sequence[str | None]) -> None:
    """A roster without name, branch or status columns cannot be imported at all."""
    missing = [name for name in REQUIRED_FIELDS if name not in fields]
    if missing:
        columns = ", ".join(f"{HEADER_ALIASES[name][0]} ({name})" for name in missing)
        raise RosterFileError(MSG_MISSING_COLUMNS, columns=columns)


def _ignored_columns(
    header: _Header, fields: Sequence[str | None], data: Sequence[Sequence[Cell]]
) -> list[str]:
    """Labels of the columns we do not read (unnamed ones only if they hold anything)."""
    ignored: list[str] = []
    for column, name in enumerate(fields):
        if name is not None:
            continue
        label = header.labels[column] if column < len(header.labels) else ""
        if not label and any(column < len(row) and cell_text(row[column]) for row in data):
            label = _column_letter(column)
        if label:
            ignored.append(label)
    return _unique(ignored)


def _unique(labels: Iterable[str]) -> list[str]:
    """Labels in order, each once (a merged header names several columns)."""
    return list(dict.fromkeys(labels))


def _parse_row(
    row_number: int, values: dict[str, Cell], today: date
) -> tuple[RosterRow | None, list[RowProblem]]:
    """One data row; the row comes back only when name, branch and status are usable."""
    report = _Reporter(row_number)
    name = _clean_label(cell_text(values.get("name")))
    if not name:
        report.add("name", "missing_name", MSG_MISSING_NAME)
    gender = _parse_gender(values.get("gender"), report)
    phone = _parse_phone(values.get("phone"), report)
    branch = _clean_label(cell_text(values.get("branch")))
    if not branch:
        report.add("branch", "missing_branch", MSG_MISSING_BRANCH)
    status = _parse_status(values.get("status"), report)
    joined_on = _parse_joined(values.get("joined_on"), today, report)
    if not name or not branch or status is None:
        return None, report.problems
    row = RosterRow(
        row_number=row_number,
        name=name,
        gender=gender,
        phone=phone,
        township=_clean_label(cell_text(values.get("township"))) or None,
        branch=branch,
        status=status,
        joined_on=joined_on,
        party_group=_clean_label(cell_text(values.get("party_group"))) or None,
    )
    return row, report.problems


@dataclass(slots=True)
class _Reporter:
    """Collects the problems of one row."""

    row_number: int
    problems: list[RowProblem] = field(default_factory=list)

    def add(self, field_name: str, code: str, message_id: str, **params: str) -> None:
        safe = {key: _mask_id(value) for key, value in params.items()}
        self.problems.append(RowProblem(self.row_number, field_name, code, message_id, safe))


def _parse_gender(cell: Cell, report: _Reporter) -> Gender:
    """Any of GENDER_WORDS; blank is unknown, anything else is a problem."""
    text = cell_text(cell)
    if not text:
        return Gender.UNKNOWN
    gender = GENDER_WORDS.get(_normalise_word(text))
    if gender is None:
        report.add("gender", "unknown_gender", MSG_UNKNOWN_GENDER, value=text)
        return Gender.UNKNOWN
    return gender


def _parse_phone(cell: Cell, report: _Reporter) -> str | None:
    """A mainland mobile as +86 and 11 digits; blank is fine (many elders have no phone)."""
    text = cell_text(cell)
    if not text:
        return None
    phone = normalise_phone(text)
    if phone is None:
        report.add("phone", "bad_phone", MSG_BAD_PHONE, value=text)
    return phone


def _parse_status(cell: Cell, report: _Reporter) -> MemberStatus | None:
    """Full, probationary, development target or activist, in any of STATUS_WORDS."""
    text = cell_text(cell)
    if not text:
        report.add("status", "missing_status", MSG_MISSING_STATUS)
        return None
    status = _STATUS_KEYS.get(_normalise_word(text))
    if status is None:
        report.add("status", "unknown_status", MSG_UNKNOWN_STATUS, value=text)
    return status


def _parse_joined(cell: Cell, today: date, report: _Reporter) -> date | None:
    """The date joined, which must lie between the Party's founding and today."""
    text = cell_text(cell)
    if not text:
        return None
    joined = parse_date(cell)
    if joined is None:
        report.add("joined_on", "bad_date", MSG_BAD_DATE, value=text)
    elif joined > today:
        report.add("joined_on", "future_date", MSG_FUTURE_DATE, value=text)
    elif joined < PARTY_FOUNDED:
        report.add("joined_on", "date_too_early", MSG_EARLY_DATE, value=text)
    else:
        return joined
    return None


def _duplicates(row: RosterRow, seen: _Seen) -> list[RowProblem]:
    """Report a row that repeats an earlier phone, or name within the same branch."""
    report = _Reporter(row.row_number)
    if row.phone is not None:
        earlier = seen.phones.setdefault(row.phone, row.row_number)
        if earlier != row.row_number:
            report.add(
                "phone",
                "duplicate_phone",
                MSG_DUPLICATE_PHONE,
                value=row.phone,
                earlier=str(earlier),
            )
    key = (row.name, row.branch, row.township or "")
    earlier = seen.names.setdefault(key, row.row_number)
    if earlier != row.row_number:
        report.add(
            "name", "duplicate_name", MSG_DUPLICATE_NAME, value=row.name, earlier=str(earlier)
        )
    return report.problems


# --- Normalising values --------------------------------------------------------------------


def normalise_phone(text: str) -> str | None:
    """ "+86 138-0000-0000" or full-width digits -> "+8613800000000"; None if not a mobile.

    Idempotent: a normalised number normalises to itself.
    """
    compact = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    match = _MOBILE.fullmatch(compact)
    return f"+86{match.group(1)}" if match else None


def parse_date(cell: Cell) -> date | None:
    """A date from an Excel date cell, an Excel serial number, or text people type."""
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    if isinstance(cell, bool | time) or cell is None:
        return None
    if isinstance(cell, int | float):
        return _date_from_number(cell)
    return _date_from_text(cell_text(cell))


def _date_from_number(number: float) -> date | None:
    """20190701, a year.month float like 2019.07, or an Excel serial day number."""
    if float(number).is_integer():
        whole = int(number)
        if 10_000_000 <= whole <= 99_999_999:
            return _date_from_text(str(whole))
        if 1000 <= whole <= 9999:  # a bare year is not a date
            return None
    elif 1000 <= number <= 9999:
        year, month = repr(float(number)).split(".")
        return None if month == "1" else _make_date(year, month, "1")  # 2019.1 may be 2019.10
    if not 1 <= number < 2_958_466:  # Excel's last day is 9999-12-31
        return None
    moment = from_excel(number)
    return moment.date() if isinstance(moment, datetime) else None


def _date_from_text(text: str) -> date | None:
    """2019-07-01, 2019/7/1, 2019.7.1, 20190701, with year-month-day marks; 2019-07 -> 1st."""
    text = unicodedata.normalize("NFKC", text).strip().rstrip(".")
    match = _FULL_DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if match:
        return _make_date(match.group(1), match.group(2), match.group(3) or "1")
    match = _YEAR_MONTH.fullmatch(text)
    return _make_date(match.group(1), match.group(2), "1") if match else None


def _make_date(year: str, month: str, day: str) -> date | None:
    """A calendar date, or None for 2019-02-30 and the like."""
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def cell_text(cell: Cell) -> str:
    """A cell as trimmed NFKC text; 13800000000.0 becomes "13800000000", dates ISO."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    if isinstance(cell, datetime):
        cell = cell.date() if cell.time() == time() else cell
    if isinstance(cell, date):
        return cell.isoformat()
    return unicodedata.normalize("NFKC", str(cell)).strip()


def _clean_label(text: str) -> str:
    """Names and org labels: no inner spaces in CJK text ("Zhang San" keeps one)."""
    words = text.split()
    if all(_is_cjk_text(word) for word in words):
        return "".join(words)
    return " ".join(words)


def _is_cjk_text(word: str) -> bool:
    """True when a word is all CJK ideographs (and the dots of minority names)."""
    return all(
        "\u3400" <= char <= "\u9fff"
        or "\uf900" <= char <= "\ufaff"
        or "\U00020000" <= char <= "\U0003134f"
        or char in "·・•."
        for char in word
    )


def _normalise_word(text: str) -> str:
    """Comparable form of a status or gender word: lower case, no spaces or underscores."""
    return _JOINERS.sub("", unicodedata.normalize("NFKC", text).lower())


_STATUS_KEYS: Final[dict[str, MemberStatus]] = {
    _normalise_word(word): status for word, status in STATUS_WORDS.items()
}


def _looks_like_id(text: str) -> bool:
    """An 18-character Chinese national ID number (17 digits and a digit or X)."""
    return _ID_NUMBER.fullmatch(text.replace(" ", "")) is not None


def _without_id(cell: Cell) -> Cell:
    """The cell with any ID number in its text taken out (the row is reported too)."""
    text = cell_text(cell)
    if not _ID_IN_TEXT.search(text.replace(" ", "")):
        return cell
    return _ID_IN_TEXT.sub("", text.replace(" ", "")).strip()


def _mask_id(text: str) -> str:
    """Hide the middle of anything ID-like before it is echoed back to a user."""
    return _ID_NUMBER.sub(lambda match: match.group(0)[:4] + "*" * 10 + match.group(0)[-4:], text)


def _column_letter(column: int) -> str:
    """Spreadsheet letter of a 0-based column index: 0 -> "A", 26 -> "AA"."""
    letters = ""
    column += 1
    while column:
        column, remainder = divmod(column - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters
