"""Rectification orders refused: forged buttons, users without the role, the wrong
branch, a closed or missing order, over-long text. Each refusal is answered in words
and writes nothing (no order, report, audit row or outbox row). And /rectify lists what
each may see."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import sqlalchemy as sa

from bot.access import load_principal
from bot.clock import ManualClock
from bot.i18n import gettext
from bot.rectification import CLOSED, GONE_ORDER, NOT_YOURS, issue_order
from bot.rectify_buttons import REPORT, VIEW
from bot.refusals import NOT_ALLOWED, STALE_BUTTON
from handlers.rectify import CLOSE, CONFIRM, NO_ORDERS, PHOTOS, SEND_CLOSE, SEND_REPORT
from sandbox import SimUser
from storage import Database
from storage._sql import table_of
from storage.models import AuditLog, Delivery, RectificationOrder, RectificationReport
from tests.support.builders import id_of
from tests.support.conversation import say, tap
from tests.support.reports import NOW, SHANGHAI, County, build_county
from tests.support.roles import buttons, forge

Person = Callable[..., SimUser]
WATCHED = (RectificationOrder, RectificationReport, AuditLog)


async def rows(database: Database) -> dict[str, list[str]]:
    """Every row of the tables a refusal must leave alone (of the outbox, which the relay
    works through meanwhile, the messages queued)."""
    found: dict[str, list[str]] = {}
    async with database.session_scope() as db:
        connection = await db.connection()
        for model in WATCHED:
            table = table_of(model)
            found[table.name] = sorted(
                repr(tuple(row)) for row in (await connection.execute(sa.select(table))).all()
            )
        queued = sa.select(Delivery.id, Delivery.dedupe_key)  # type: ignore[call-overload]
        found["delivery"] = sorted(
            repr(tuple(row)) for row in (await connection.execute(queued)).all()
        )
    return found


async def order_for(database: Database, county: County, branch: Any, deadline: date) -> int:
    """County staff issue an order (the use case itself; the ladder test taps through it)."""
    async with database.session_scope() as db:
        principal = await load_principal(db=db, telegram_user_id=county.staff.id)
        view, _told = await issue_order(
            db=db,
            principal=principal,
            org_id=id_of(branch),
            criticism="通报批评",
            actions="限期整改",
            deadline=deadline,
            now=NOW,
            tz=SHANGHAI,
        )
    return view.id


def text(message: str) -> str:
    return gettext("zh", message)


async def test_forged_buttons_and_users_without_the_role_change_nothing(
    database: Database, clock: ManualClock, person: Person
) -> None:
    clock.set(NOW)
    county = await build_county(database, person)
    tree = county.tree
    qianjin = await order_for(database, county, tree.qianjin, date(2026, 5, 31))
    dongfeng = await order_for(database, county, tree.dongfeng, date(2026, 5, 31))
    member = county.users["张三"]  # on 东风村's roster, no role
    before = await rows(database)

    # The township organiser of 东风镇 reaches nothing in 前进乡.
    assert (await forge(county.organiser, VIEW.encode(qianjin))).text == text(NOT_ALLOWED)
    assert (await forge(county.organiser, CLOSE.encode(qianjin))).text == text(NOT_ALLOWED)
    assert (await forge(county.organiser, PHOTOS.encode(qianjin))).text == text(NOT_ALLOWED)
    assert (await forge(county.organiser, SEND_CLOSE.encode(qianjin))).text == text(STALE_BUTTON)
    assert (await forge(county.organiser, CONFIRM.encode(id_of(tree.qianjin)))).text == text(
        STALE_BUTTON
    )
    # The secretary of 东风村 reports on his own branch's order only, and closes none.
    assert (await forge(county.secretary, REPORT.encode(qianjin))).text == text(NOT_YOURS)
    assert (await forge(county.secretary, CLOSE.encode(dongfeng))).text == text(NOT_ALLOWED)
    assert (await forge(county.secretary, VIEW.encode(qianjin))).text == text(NOT_ALLOWED)
    # A member without a role: neither reports nor sees orders.
    assert (await forge(member, REPORT.encode(dongfeng))).text == text(NOT_YOURS)
    assert (await forge(member, VIEW.encode(dongfeng))).text == text(NOT_ALLOWED)
    assert (await say(member, "/rectify")).text == text(NO_ORDERS)
    # A missing order, malformed data (falls through to the unknown-button answer).
    assert (await forge(county.staff, VIEW.encode(99999))).text == text(GONE_ORDER)
    assert (await forge(county.secretary, REPORT.encode(99999))).text == text(GONE_ORDER)
    assert (await forge(county.staff, "rect.v:abc")).text

    # A report prepared for one order cannot be sent for another.
    message = next(m for m in county.secretary.messages if "📢" in (m.text or ""))
    await tap(county.secretary, "📝 报告整改进展", message_id=message.message_id)
    assert (await say(county.secretary, "字" * 1001)).text == ("太长了，请不超过1000个字。")
    ready = await say(county.secretary, "已整改")
    assert buttons(ready) == ["📤 提交进展报告", "取消"]
    assert (await forge(county.secretary, SEND_REPORT.encode(qianjin))).text == text(STALE_BUTTON)
    assert await rows(database) == before

    # Closed orders refuse a second close.
    await tap(county.secretary, "📤 提交进展报告", message_id=ready.message_id)
    after_report = await rows(database)
    assert len(after_report["rectification_report"]) == 1
    listed = await say(county.staff, "/rectify")
    screen = await tap(county.staff, "东风村党支部 · 2026-05-31", message_id=listed.message_id)
    assert "进展报告：1 次" in (screen.text or "")
    await tap(county.staff, "✅ 凭佐证销号", message_id=screen.message_id)
    done = await say(county.staff, "已核实")
    await tap(county.staff, "✅ 销号", message_id=done.message_id)
    assert (await forge(county.staff, CLOSE.encode(dongfeng))).text == text(CLOSED)


async def test_rectify_lists_what_each_may_see(
    database: Database, clock: ManualClock, person: Person
) -> None:
    clock.set(NOW)
    county = await build_county(database, person)
    tree = county.tree
    await order_for(database, county, tree.qianjin, date(2026, 5, 20))
    await order_for(database, county, tree.dongfeng, date(2026, 5, 31))
    staff = await say(county.staff, "/rectify")
    assert (staff.text or "").splitlines() == [
        "📋 整改通知（按期限先后）：",
        "• 前进村党支部：期限2026年5月20日，整改中，进展报告 0 次",
        "• 东风村党支部：期限2026年5月31日，整改中，进展报告 0 次",
    ]
    assert buttons(staff) == ["前进村党支部 · 2026-05-20", "东风村党支部 · 2026-05-31"]
    township = await say(county.organiser, "/rectify")
    assert buttons(township) == ["东风村党支部 · 2026-05-31"]
    secretary = await say(county.secretary, "/rectify")
    assert buttons(secretary) == ["东风村党支部 · 2026-05-31"]
    own = await tap(county.secretary, "东风村党支部 · 2026-05-31", message_id=secretary.message_id)
    assert buttons(own) == ["📝 报告整改进展", "⬆ 整改通知"]
    back = await tap(county.secretary, "⬆ 整改通知", message_id=own.message_id)
    assert back.text == secretary.text
