"""Shared pieces of the roster-import tests: spreadsheets built in code, database peeks.

(No tests live here; the name keeps the feature's test files together.)
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from openpyxl import Workbook
from sqlmodel import col, select

from storage import Database
from storage.models import AuditLog, Member, MemberStatusChange, OrgUnit

ID_1 = "110101199001011234"
ID_2 = "11010119850505123X"

HEADER_TOP = ["序号", "基本信息", None, None, "身份证号", "手机号码（必填）", "所在党支部",
              "人员类别", "入党时间", "备注", "党小组"]  # fmt: skip
HEADER_BOTTOM = [None, "姓名", "性别", "所属乡镇"]

Row = list[object]


def person(
    number: int,
    name: str | None,
    township: str | None,
    branch: str | None,
    status: str | None,
    *,
    phone: object = None,
    gender: str | None = None,
    id_number: str | None = None,
    joined: object = None,
    remark: str | None = None,
    group: str | None = None,
) -> Row:
    """One data row in the column order of the messy sheet."""
    return [number, name, gender, township, id_number, phone, branch, status, joined, remark,
            group]  # fmt: skip


def messy_xlsx(rows: Sequence[Row]) -> bytes:
    """A roster the way counties keep it: a merged title, a two-row merged header, ID column."""
    workbook = Workbook()
    sheet: Any = workbook.active
    sheet.append(["红旗县农村党员花名册"])
    sheet.merge_cells("A1:K1")
    sheet.append(HEADER_TOP)
    sheet.append(HEADER_BOTTOM)
    sheet.merge_cells("B2:D2")
    for column in "AEFGHIJK":
        sheet.merge_cells(f"{column}2:{column}3")
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: Sequence[Sequence[object]], encoding: str = "utf-8") -> bytes:
    """A plain CSV (first row is the header)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


# Spreadsheet rows 4.. of the first import: two new townships, three branches, one group.
FIRST_ROWS: list[Row] = [
    person(1, "张 三", "城关镇", "东关村党支部", "预备党员", phone="１３８ ００１３ ８０００",
           gender="男", id_number=ID_1, joined="2020-07-01", group="第一党小组"),  # row 4
    person(2, "李四", "城关镇", "东关村党支部", "正式党员", phone="+86-139-0013-9000",
           gender="女", id_number=ID_2, joined="２０１８年３月５日", remark="外出务工"),  # row 5
    person(3, "王五", "城关镇", "西河村党支部", "发展对象", gender="男"),  # row 6: no phone
    person(4, "赵六", "河口乡", "河口村党支部", "入党积极分子", phone=13700137000),  # row 7
]  # fmt: skip


@dataclass(frozen=True)
class Counts:
    """How many rows the tables an import writes hold."""

    orgs: int
    members: int
    status_changes: int
    audits: int


async def counts(database: Database) -> Counts:
    async with database.session_scope() as db:

        async def count(model: Any) -> int:
            result = await db.exec(select(sa.func.count()).select_from(model))
            return int(result.one())

        return Counts(
            orgs=await count(OrgUnit),
            members=await count(Member),
            status_changes=await count(MemberStatusChange),
            audits=await count(AuditLog),
        )


async def all_members(database: Database) -> dict[str, Member]:
    """Every member by name."""
    async with database.session_scope() as db:
        result = await db.exec(select(Member).order_by(col(Member.id)))
        return {member.name: member for member in result.all()}


async def all_orgs(database: Database) -> dict[str, OrgUnit]:
    """Every org unit by code."""
    async with database.session_scope() as db:
        result = await db.exec(select(OrgUnit).order_by(col(OrgUnit.id)))
        return {org.code: org for org in result.all()}


async def status_changes(database: Database) -> list[MemberStatusChange]:
    async with database.session_scope() as db:
        result = await db.exec(select(MemberStatusChange).order_by(col(MemberStatusChange.id)))
        return list(result.all())


async def stored_text(database: Database) -> str:
    """Every value of every row of the tables an import touches, as one string."""
    async with database.session_scope() as db:
        parts: list[str] = []
        for model in (OrgUnit, Member, MemberStatusChange, AuditLog):
            result = await db.exec(select(model))
            parts += [repr(row.model_dump()) for row in result.all()]
        return "\n".join(parts)
