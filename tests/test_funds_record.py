"""/fund: staff record money for an org in their scope with taps and one typed amount.

Bad amounts (negative, zero, too many fen, absurd), forged buttons (another township's
branch, a year out of range, a budget that does not exist) and people without the right
get one clear line and nothing is written.
"""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import col, select

from bot.i18n import gettext
from bot.refusals import NOT_ALLOWED
from handlers import funds as fund_handlers
from sandbox import SimUser, World
from storage import Database
from storage.models import FundAllocation, FundPurpose, FundSource, Role
from tests.support.audit import audit_log
from tests.support.builders import Tree, add_member, build_tree, grant
from tests.support.conversation import say, shown, tap
from tests.support.roles import Person, buttons, forge
from tests.support.sessions import send_photo


async def allocations(database: Database) -> list[FundAllocation]:
    async with database.session_scope() as db:
        rows = await db.exec(select(FundAllocation).order_by(col(FundAllocation.id)))
        return list(rows.all())


async def organiser(
    database: Database, person: Person, tree: Tree, language: str = "en"
) -> SimUser:
    user = person("镇组织委员", language=language)
    await grant(database, user.id, Role.TOWNSHIP_ORGANISER, tree.townships["T01"])
    return user


async def test_a_township_organiser_records_training_money_for_a_branch(
    person: Person, database: Database, world: World
) -> None:
    tree = await build_tree(database)
    user = await organiser(database, person, tree)
    first = await say(user, "/fund")
    assert "Record funds for which org?" in shown(first)
    assert buttons(first) == ["Choose 东风镇党委", "东风村党支部", "柳树村党支部"]
    years = await tap(user, "东风村党支部")
    assert years.text == "红旗县 / 东风镇党委 / 东风村党支部\nFunds for which year?"
    assert buttons(years) == ["2025", "2026", "2027"]
    sources = await tap(user, "2026")
    assert buttons(sources) == ["municipal budget", "county budget", "township budget"]
    purposes = await tap(user, "county budget")
    assert buttons(purposes) == ["training", "village infrastructure", "office costs"]
    ask = await tap(user, "training")
    assert ask.text == (
        "东风村党支部, 2026, county budget, training. Type the amount in yuan, e.g. 1200.50:"
    )

    for typed, answer in [
        ("-5", "The amount must be more than zero yuan."),
        ("0", "The amount must be more than zero yuan."),
        ("0.00元", "The amount must be more than zero yuan."),
        ("about fifty", "about fifty is not an amount in yuan. Write it like 1200 or 1200.50."),
        ("12.345", "An amount has at most two decimal places (fen): 12.345."),
        (
            "20000000",
            "20000000 yuan is more than one record can hold (at most 10,000,000.00 yuan).",
        ),
    ]:
        assert (await say(user, typed)).text == answer
    assert (await send_photo(world, user)).text == (
        "Please type the amount in yuan, e.g. 1200.50."
    )
    assert await allocations(database) == []
    assert await audit_log(database, "fund.record") == []

    done = await say(user, "１,２００.５０元")  # full-width digits, a separator and 元
    assert done.text == (
        "Recorded: 1,200.50 yuan for 东风村党支部, 2026, county budget, training."
    )
    [row] = await allocations(database)
    assert (row.org_id, row.year, row.source, row.purpose, row.amount_yuan, row.recorded_by) == (
        tree.dongfeng.id,
        2026,
        FundSource.COUNTY,
        FundPurpose.TRAINING,
        Decimal("1200.50"),
        user.id,
    )
    [entry] = await audit_log(database, "fund.record")
    assert (entry.actor_telegram_id, entry.target_id, entry.org_id) == (
        user.id,
        row.id,
        tree.dongfeng.id,
    )
    assert entry.detail["amount_yuan"] == "1200.50"
    # The flow is over: more text is not another amount.
    await say(user, "300")
    assert len(await allocations(database)) == 1


async def test_the_township_itself_can_be_chosen_in_chinese(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    user = await organiser(database, person, tree, language="zh-hans")
    await say(user, "/fund")
    await tap(user, "选择 东风镇党委")
    await tap(user, "2026")
    await tap(user, "乡镇财政")
    ask = await tap(user, "村级基础设施")
    assert "请输入金额" in shown(ask)
    done = await say(user, "80000")
    assert done.text == "已记录：东风镇党委，2026年，乡镇财政，村级基础设施，80,000.00 元。"
    [row] = await allocations(database)
    assert (row.org_id, row.purpose, row.amount_yuan) == (
        tree.townships["T01"].id,
        FundPurpose.INFRASTRUCTURE,
        Decimal("80000.00"),
    )


async def test_forged_buttons_and_people_without_the_right_change_nothing(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    user = await organiser(database, person, tree)
    await say(user, "/fund")
    dongfeng, qianjin = tree.dongfeng.id, tree.qianjin.id
    refused = gettext("en", NOT_ALLOWED)
    assert (await forge(user, f"fnd.p:{qianjin}:2026:1:0")).text == refused  # other township
    assert (await forge(user, f"fnd.s:{dongfeng}:2026:7")).text == refused  # no such budget
    assert (await forge(user, f"fnd.s:{dongfeng}:1999:0")).text == (
        "1999 is not a year between 2000 and 2027."
    )
    assert (await forge(user, f"fnd.p:{dongfeng}:2026:0:9")).text == refused

    secretary = person("书记", language="en")
    await add_member(database, tree.dongfeng, "书记", telegram_user_id=secretary.id)
    await grant(database, secretary.id, Role.SECRETARY, tree.dongfeng)
    assert (await say(secretary, "/fund")).text == gettext("en", fund_handlers.NO_FUNDS)
    assert (await forge(secretary, f"fnd.y:{dongfeng}:2026")).text == refused
    assert await allocations(database) == []
    assert await audit_log(database, "fund.record") == []
