"""Reading roster spreadsheets: messy real-world files in, exact rows and problems out."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from bot.roster_file import (
    MAX_COLUMNS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    MSG_BAD_DATE,
    MSG_BAD_PHONE,
    MSG_DUPLICATE_NAME,
    MSG_DUPLICATE_PHONE,
    MSG_EARLY_DATE,
    MSG_FILE_TOO_BIG,
    MSG_FUTURE_DATE,
    MSG_ID_NUMBER,
    MSG_MISSING_COLUMNS,
    MSG_MISSING_NAME,
    MSG_MIXED_ENCODING,
    MSG_NO_HEADER,
    MSG_OLD_EXCEL,
    MSG_TOO_MANY_COLUMNS,
    MSG_TOO_MANY_ROWS,
    MSG_UNKNOWN_STATUS,
    MSG_UNREADABLE,
    MSG_UNSUPPORTED,
    ParsedRoster,
    RosterFileError,
    RosterRow,
    RowProblem,
    normalise_phone,
    parse_date,
    read_roster,
)
from storage.models import Gender, MemberStatus

TODAY = date(2024, 6, 1)
ID_1 = "110101199001011234"
ID_2 = "11010119850505123X"

CITY = "城关镇"
EAST = "东关村党支部"
WEST = "西河村党支部"


def xlsx_bytes(build: Callable[[Any], None]) -> bytes:
    """Run a builder on a fresh workbook's active sheet and return the saved file."""
    workbook = Workbook()
    build(workbook.active)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read(data: bytes, filename: str) -> ParsedRoster:
    return read_roster(data, filename, today=TODAY)


def problem(row: int, field: str, code: str, message_id: str, **params: str) -> RowProblem:
    return RowProblem(row, field, code, message_id, params)


# --- The messy spreadsheet ------------------------------------------------------------------

HEADER_TOP = ["序号", "基本信息", None, None, "身份证号", "手机号码（必填）", "所在党支部",
              "人员类别", "入党时间", "备注", "党小组"]  # fmt: skip
HEADER_BOTTOM = [None, "姓名", "性别", "所属乡镇"]

MESSY_ROWS: list[list[object]] = [
    # row 4: inner space in a CJK name, full-width phone, a real Excel date cell
    [1, "张 三", "男", CITY, ID_1, "１３８ ００１３ ８０００", EAST, "正式党员",
     datetime(2019, 7, 1), None, "第一党小组"],
    # row 5: +86 with dashes, full-width date with year-month-day marks, a remark
    [2, "李四", "女", CITY, ID_2, "+86-139-0013-9000", EAST, "预备党员", "２０２０年３月５日",
     "外出务工", None],
    [None] * 11,  # row 6: blank
    # row 7: bad phone and impossible date
    [3, "王五", "男", CITY, ID_1, "1380000", EAST, "预备", "2019-02-30", None, None],
    # row 8: phone as an int, no gender, slashes in the date
    [4, "赵六", None, CITY, None, 13700137000, WEST, "发展对象", "2018/7/1", None, None],
    # row 9: same name in the same branch as row 4; phone as a float; year.month
    [5, "张三", "男", CITY, None, 13600136000.0, EAST, "入党积极分子", "2021.6", None, None],
    # row 10: same phone as row 4; an Excel serial number as the date
    [6, "孙七", "女", CITY, None, "13800138000", WEST, "积极分子", 43647, None, None],
    [7, None, None, None, None, None, None, None, None, None, None],  # row 11: only a number
    # row 12: compact date, another township
    [8, "周八", "女", "河口乡", None, "", "河口村党支部", "正式", "20190701", None, None],
    # row 13: too broken to keep: no name, unknown status
    [9, None, "男", "河口乡", None, None, "河口村党支部", "党员", None, None, None],
]  # fmt: skip


def build_messy(ws: Any) -> None:
    """Title row merged across, two-row merged header, then MESSY_ROWS."""
    ws.append(["某某县农村党员花名册"])
    ws.merge_cells("A1:K1")
    ws.append(HEADER_TOP)
    ws.append(HEADER_BOTTOM)
    ws.merge_cells("B2:D2")
    for column in "AEFGHIJK":
        ws.merge_cells(f"{column}2:{column}3")
    for row in MESSY_ROWS:
        ws.append(row)


@pytest.fixture(scope="module")
def messy() -> ParsedRoster:
    return read(xlsx_bytes(build_messy), "党员花名册.xlsx")


def test_messy_xlsx_rows(messy: ParsedRoster) -> None:
    assert messy.header_row == 3
    assert messy.rows == [
        RosterRow(4, "张三", Gender.MALE, "+8613800138000", CITY, EAST, MemberStatus.FULL,
                  date(2019, 7, 1), "第一党小组"),
        RosterRow(5, "李四", Gender.FEMALE, "+8613900139000", CITY, EAST,
                  MemberStatus.PROBATIONARY, date(2020, 3, 5), None),
        RosterRow(7, "王五", Gender.MALE, None, CITY, EAST, MemberStatus.PROBATIONARY, None,
                  None),
        RosterRow(8, "赵六", Gender.UNKNOWN, "+8613700137000", CITY, WEST,
                  MemberStatus.DEVELOPMENT_TARGET, date(2018, 7, 1), None),
        RosterRow(9, "张三", Gender.MALE, "+8613600136000", CITY, EAST, MemberStatus.ACTIVIST,
                  date(2021, 6, 1), None),
        RosterRow(10, "孙七", Gender.FEMALE, "+8613800138000", CITY, WEST,
                  MemberStatus.ACTIVIST, date(2019, 7, 1), None),
        RosterRow(12, "周八", Gender.FEMALE, None, "河口乡", "河口村党支部", MemberStatus.FULL,
                  date(2019, 7, 1), None),
    ]  # fmt: skip


def test_messy_xlsx_problems(messy: ParsedRoster) -> None:
    assert messy.problems == [
        problem(7, "phone", "bad_phone", MSG_BAD_PHONE, value="1380000"),
        problem(7, "joined_on", "bad_date", MSG_BAD_DATE, value="2019-02-30"),
        problem(9, "name", "duplicate_name", MSG_DUPLICATE_NAME, value="张三", earlier="4"),
        problem(10, "phone", "duplicate_phone", MSG_DUPLICATE_PHONE, value="+8613800138000",
                earlier="4"),
        problem(13, "name", "missing_name", MSG_MISSING_NAME),
        problem(13, "status", "unknown_status", MSG_UNKNOWN_STATUS, value="党员"),
    ]  # fmt: skip
    assert messy.bad_row_numbers == {7, 9, 10, 13}
    assert [row.row_number for row in messy.good_rows] == [4, 5, 8, 12]


def test_messy_xlsx_columns(messy: ParsedRoster) -> None:
    assert messy.ignored_columns == ["序号", "备注"]
    assert messy.dropped_sensitive_columns == ["身份证号"]


def test_id_numbers_appear_nowhere(messy: ParsedRoster) -> None:
    dump = repr(messy)
    assert ID_1 not in dump
    assert ID_2 not in dump
    assert "19900101" not in dump


def test_render_fills_row_and_value(messy: ParsedRoster) -> None:
    catalog = {MSG_BAD_PHONE: "第 {row} 行：手机号码 {value} 不是有效的手机号"}
    assert messy.problems[0].render(lambda msgid: catalog.get(msgid, msgid)) == (
        "第 7 行：手机号码 1380000 不是有效的手机号"
    )
    assert messy.problems[2].render(str) == (
        "row 9: 张三 is listed twice in the same branch (first in row 4)"
    )


# --- CSV ------------------------------------------------------------------------------------

CSV_TEXT = (
    "姓名,性别,手机号,党支部,类别,入党日期\n"
    "刘一,男,13900001111,东关村党支部,正式党员,2015年10月\n"
    "\n"
    "陈二,女,,东关村党支部,发展对象,\n"
)
CSV_ROWS = [
    RosterRow(2, "刘一", Gender.MALE, "+8613900001111", None, EAST, MemberStatus.FULL,
              date(2015, 10, 1), None),
    RosterRow(4, "陈二", Gender.FEMALE, None, None, EAST, MemberStatus.DEVELOPMENT_TARGET, None,
              None),
]  # fmt: skip


def test_gbk_csv() -> None:
    parsed = read(CSV_TEXT.encode("gbk"), "roster.CSV")
    assert parsed.rows == CSV_ROWS
    assert parsed.problems == []
    assert parsed.header_row == 1


def test_utf8_bom_csv_with_decorated_headers() -> None:
    text = CSV_TEXT.replace("姓名", "姓 名：").replace("党支部", "*党支部（必填）", 1)
    parsed = read(text.encode("utf-8-sig"), "roster.csv")
    assert parsed.rows == CSV_ROWS
    assert parsed.ignored_columns == []


def test_english_headers_and_id_values_under_an_unknown_header() -> None:
    text = (
        "Name,Gender,Phone,Township,Branch,Status,Joined_on,Party group,Code,Notes\n"
        f"Ayxam Tursun,F,+86 137 0000 2222,{CITY},{EAST},Probationary,2023-01-02,g1,{ID_1},x\n"
        f"Li  Wei,male,,{CITY},{EAST},development target,,,{ID_2},\n"
    )
    parsed = read(text.encode(), "export.csv")
    assert parsed.rows == [
        RosterRow(2, "Ayxam Tursun", Gender.FEMALE, "+8613700002222", CITY, EAST,
                  MemberStatus.PROBATIONARY, date(2023, 1, 2), "g1"),
        RosterRow(3, "Li Wei", Gender.MALE, None, CITY, EAST, MemberStatus.DEVELOPMENT_TARGET,
                  None, None),
    ]  # fmt: skip
    assert parsed.dropped_sensitive_columns == ["Code"]
    assert parsed.ignored_columns == ["Notes"]
    assert ID_1 not in repr(parsed)


def test_id_number_in_the_phone_column_is_removed_and_reported() -> None:
    text = f"姓名,手机,支部,类别\n张三,{ID_1},{EAST},正式党员\n李四,13800001111,{EAST},正式党员\n"
    parsed = read(text.encode(), "r.csv")
    assert parsed.problems == [problem(2, "id_number", "id_number", MSG_ID_NUMBER, column="手机")]
    assert ID_1 not in repr(parsed)


def test_csv_rows_are_numbered_by_the_line_they_start_on() -> None:
    text = f'姓名,支部,类别,备注\r\n甲,{EAST},正式党员,"两行\r\n备注"\r\n\r\n乙,{EAST},转出,\r\n'
    parsed = read(text.encode(), "r.csv")
    assert [row.row_number for row in parsed.rows] == [2]
    assert parsed.problems == [
        problem(5, "status", "unknown_status", MSG_UNKNOWN_STATUS, value="转出")
    ]


def test_dates_outside_the_partys_life_are_errors() -> None:
    text = (
        "姓名,支部,类别,入党时间\n"
        f"甲,{EAST},正式党员,2024-06-02\n"
        f"乙,{EAST},正式党员,1921-06-30\n"
        f"丙,{EAST},正式党员,1921-07-01\n"
    )
    parsed = read(text.encode(), "r.csv")
    assert parsed.problems == [
        problem(2, "joined_on", "future_date", MSG_FUTURE_DATE, value="2024-06-02"),
        problem(3, "joined_on", "date_too_early", MSG_EARLY_DATE, value="1921-06-30"),
    ]
    assert [row.joined_on for row in parsed.rows] == [None, None, date(1921, 7, 1)]


def test_branch_merged_down_the_rows_applies_to_each_member() -> None:
    def build(ws: Any) -> None:
        for row in (
            ["所在党支部", "姓名", "类别"],
            [EAST, "甲", "正式党员"],
            [None, "乙", "预备"],
        ):
            ws.append(row)
        ws.merge_cells("A2:A3")

    parsed = read(xlsx_bytes(build), "r.xlsx")
    assert [(row.name, row.branch) for row in parsed.rows] == [("甲", EAST), ("乙", EAST)]


# --- Dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2019-07-01", date(2019, 7, 1)),
        ("2019/7/1", date(2019, 7, 1)),
        ("2019.7.1", date(2019, 7, 1)),
        ("2019年7月1日", date(2019, 7, 1)),
        ("２０１９年７月１日", date(2019, 7, 1)),
        ("20190701", date(2019, 7, 1)),
        ("2019年7月", date(2019, 7, 1)),
        ("2019-07", date(2019, 7, 1)),
        ("2019-07-01 00:00:00", date(2019, 7, 1)),
        (datetime(2019, 7, 1, 0, 0), date(2019, 7, 1)),
        (date(2019, 7, 1), date(2019, 7, 1)),
        (43647, date(2019, 7, 1)),
        (43647.0, date(2019, 7, 1)),
        (20190701, date(2019, 7, 1)),
        (2019.07, date(2019, 7, 1)),
        (2019.1, None),  # could be 2019.10 typed into a number cell
        (2019, None),
        ("2019-13-01", None),
        ("July 2019", None),
        ("", None),
    ],
)
def test_parse_date(cell: object, expected: date | None) -> None:
    assert parse_date(cell) == expected


# --- File-level errors ----------------------------------------------------------------------


def test_missing_required_column() -> None:
    with pytest.raises(RosterFileError) as caught:
        read("姓名,性别,手机\n张三,男,13800000000\n".encode(), "r.csv")
    assert caught.value.message_id == MSG_MISSING_COLUMNS
    assert "branch" in caught.value.params["columns"]
    assert "status" in caught.value.params["columns"]
    assert "name" not in caught.value.params["columns"]


@pytest.mark.parametrize(
    ("filename", "message_id"),
    [("roster.pdf", MSG_UNSUPPORTED), ("roster", MSG_UNSUPPORTED), ("roster.xls", MSG_OLD_EXCEL)],
)
def test_unsupported_file_types(filename: str, message_id: str) -> None:
    with pytest.raises(RosterFileError) as caught:
        read(b"whatever", filename)
    assert caught.value.message_id == message_id
    assert caught.value.params == {"filename": filename}


def test_damaged_xlsx() -> None:
    with pytest.raises(RosterFileError) as caught:
        read(b"not a zip file", "roster.xlsx")
    assert caught.value.message_id == MSG_UNREADABLE


def test_no_header_row() -> None:
    with pytest.raises(RosterFileError) as caught:
        read(b"a,b\n1,2\n", "r.csv")
    assert caught.value.message_id == MSG_NO_HEADER
    assert caught.value.render(str).startswith("No header row found in the first 10 rows")


# --- Phone numbers --------------------------------------------------------------------------

MOBILES = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
SEPARATORS = st.sampled_from(["", " ", "-", "\u3000", " - ", "."])
FULL_WIDTH = {str(digit): chr(0xFF10 + digit) for digit in range(10)}


@st.composite
def decorated_mobiles(draw: st.DrawFn) -> tuple[str, str]:
    """A mobile, and the same number as people type it."""
    mobile = draw(MOBILES)
    parts = [FULL_WIDTH[digit] if draw(st.booleans()) else digit for digit in mobile]
    text = "".join(part + draw(SEPARATORS) for part in parts)
    prefix = draw(st.sampled_from(["", "+86", "86", "0086", "+86 ", "(+86)", "＋８６"]))
    return mobile, f"{draw(SEPARATORS)}{prefix}{text}"


@given(decorated_mobiles())
def test_decorated_mobiles_normalise_to_the_same_value(pair: tuple[str, str]) -> None:
    mobile, text = pair
    assert normalise_phone(text) == f"+86{mobile}"
    assert normalise_phone(f"+86{mobile}") == f"+86{mobile}"


@given(st.one_of(st.text(), decorated_mobiles().map(lambda pair: pair[1])))
def test_phone_normalisation_is_idempotent(text: str) -> None:
    once = normalise_phone(text)
    if once is not None:
        assert normalise_phone(once) == once


@pytest.mark.parametrize("text", ["1380000", "12800000000", "010-12345678", "138000000001", ""])
def test_not_mobiles(text: str) -> None:
    assert normalise_phone(text) is None


# --- Hostile and careless files (issue 16) ---------------------------------------------------


def _zip_with_sheet(sheet_xml: str) -> bytes:
    """A minimal .xlsx whose one sheet is ``sheet_xml`` (what a hand-made file can claim)."""
    import zipfile

    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _sheet(dimension: str, rows: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>'
    )


def _inline_row(number: int, *values: str) -> str:
    cells = "".join(
        f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'
        for i, v in enumerate(values)
    )
    return f'<row r="{number}">{cells}</row>'


def test_a_sheet_claiming_xfd1048576_is_read_by_what_it_holds() -> None:
    rows = _inline_row(1, "姓名", "支部", "类别") + _inline_row(2, "张三", EAST, "正式党员")
    data = _zip_with_sheet(_sheet("A1:XFD1048576", rows))
    assert len(data) < 2000
    parsed = read(data, "r.xlsx")
    assert [(row.name, row.branch) for row in parsed.rows] == [("张三", EAST)]


def test_a_million_empty_rows_stop_at_the_row_limit() -> None:
    rows = _inline_row(1, "姓名", "支部", "类别") + "".join(
        f'<row r="{n}"/>' for n in range(2, MAX_ROWS + 10)
    )
    data = _zip_with_sheet(_sheet("A1:C1048576", rows))
    with pytest.raises(RosterFileError) as raised:
        read(data, "r.xlsx")
    assert raised.value.message_id == MSG_TOO_MANY_ROWS
    assert raised.value.params["limit"] == str(MAX_ROWS)


def test_a_cell_far_to_the_right_is_refused_as_too_many_columns() -> None:
    far = '<row r="2"><c r="XFD2" t="inlineStr"><is><t>x</t></is></c></row>'
    data = _zip_with_sheet(_sheet("A1:XFD2", _inline_row(1, "姓名", "支部", "类别") + far))
    with pytest.raises(RosterFileError) as raised:
        read(data, "r.xlsx")
    assert raised.value.message_id == MSG_TOO_MANY_COLUMNS
    assert raised.value.params == {"filename": "r.xlsx", "limit": str(MAX_COLUMNS), "row": "2"}


def test_a_file_over_the_byte_limit_is_refused_unread() -> None:
    with pytest.raises(RosterFileError) as raised:
        read(b"x" * (MAX_FILE_BYTES + 1), "r.csv")
    assert raised.value.message_id == MSG_FILE_TOO_BIG


def test_a_zip_that_unpacks_beyond_the_limit_is_refused() -> None:
    filler = "<row/>" * (30 * 1024 * 1024)  # 180 MB of XML that packs into a few hundred KB
    data = _zip_with_sheet(_sheet("A1:A1", filler))
    assert len(data) < MAX_FILE_BYTES
    with pytest.raises(RosterFileError) as raised:
        read(data, "r.xlsx")
    assert raised.value.message_id == MSG_FILE_TOO_BIG


def test_csv_in_utf8_with_one_gbk_line_names_the_line() -> None:
    data = (
        "姓名,支部,类别\n张三,东关村党支部,正式党员\n".encode()
        + "李四,东关村党支部,正式党员\n".encode("gbk")
        + "王五,东关村党支部,正式党员\n".encode()
    )
    with pytest.raises(RosterFileError) as raised:
        read(data, "r.csv")
    assert raised.value.message_id == MSG_MIXED_ENCODING
    assert raised.value.params["line"] == "3"


def test_csv_all_in_gbk_is_still_read() -> None:
    data = "姓名,支部,类别\n张三,东关村党支部,正式党员\n".encode("gbk")
    assert [row.name for row in read(data, "r.csv").rows] == ["张三"]


@pytest.mark.parametrize("note", ["无身份证", "电话", "手机"])
def test_a_first_member_whose_note_is_a_header_word_is_not_taken_for_a_header(
    note: str,
) -> None:
    text = f"姓名,电话,支部,类别,备注\n张三,13800001111,{EAST},正式党员,{note}\n"
    parsed = read(text.encode(), "r.csv")
    assert [(row.row_number, row.name) for row in parsed.rows] == [(2, "张三")]
    assert parsed.problems == []


def test_a_first_member_without_phone_whose_note_says_phone_is_imported() -> None:
    text = f"姓名,手机,支部,类别,备注\n张三,,{EAST},正式党员,电话\n李四,,{EAST},正式党员,\n"
    parsed = read(text.encode(), "r.csv")
    assert [row.name for row in parsed.rows] == ["张三", "李四"]


def test_an_id_number_in_a_known_column_or_after_a_name_is_removed_and_reported() -> None:
    text = (
        "姓名,支部,类别,党小组\n"
        f"张三{ID_1},{EAST},正式党员,第一党小组\n"
        f"李四,{EAST},正式党员,{ID_2}\n"
        f"王五,{EAST},正式党员,第二党小组\n"
    )
    parsed = read(text.encode(), "r.csv")
    assert parsed.problems == [
        problem(2, "id_number", "id_number", MSG_ID_NUMBER, column="姓名"),
        problem(3, "id_number", "id_number", MSG_ID_NUMBER, column="党小组"),
    ]
    assert [(row.name, row.party_group) for row in parsed.rows] == [
        ("张三", "第一党小组"),
        ("李四", None),
        ("王五", "第二党小组"),
    ]
    assert ID_1 not in repr(parsed)
    assert ID_2 not in repr(parsed)
    assert [row.name for row in parsed.good_rows] == ["王五"]
