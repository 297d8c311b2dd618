"""Five lead (五带头) through the emulator: secretaries propose members of their branch from
/assess with one tap each, staff above the branch confirm or reject each proposal, the
secretary is told through the outbox, and only confirmed members count toward 60 % of the
active members at branch, township and county scope. Forged and cross-township buttons
change nothing; double taps make one row."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import col, func, select

from bot.clock import ManualClock
from bot.five_lead import ALREADY_DECIDED, WITHDRAWN
from bot.five_lead_buttons import VERDICT
from bot.i18n import gettext
from bot.refusals import NOT_ALLOWED, STALE_BUTTON
from handlers.assess_codecs import DECIDE, PROPOSE, ROSTER
from sandbox import SimUser, World
from storage import Database
from storage.models import (
    Assessment,
    AssessmentScheme,
    Delivery,
    FiveLeadProposal,
    Member,
    Role,
)
from tests.support.audit import audit_actions, audit_log
from tests.support.builders import add_member, grant, id_of
from tests.support.conversation import say, tap, tap_refused
from tests.support.reports import NOW, County, build_county
from tests.support.roles import buttons, forge
from tests.support.sessions import arrives

Person = Callable[..., SimUser]


async def _county(database: Database, clock: ManualClock, person: Person) -> County:
    clock.set(NOW)
    return await build_county(database, person)


async def _secretary(database: Database, county: County, person: Person, code: str) -> SimUser:
    """A secretary for another branch of the fixture (东风村's is county.secretary)."""
    branch = county.tree.branches[code]
    user = person(f"{branch.name}书记")
    await grant(database, user.id, Role.SECRETARY, branch)
    return user


async def _verdicts(database: Database) -> dict[str, bool]:
    """Member name -> five-lead verdict (passed) in the database."""
    async with database.session_scope() as db:
        rows = await db.exec(
            select(Member.name, Assessment.passed)
            .join(Assessment, col(Assessment.member_id) == col(Member.id))
            .where(Assessment.scheme == AssessmentScheme.FIVE_LEAD, Assessment.year == 2026)
        )
        return {str(name): bool(passed) for name, passed in rows.all()}


async def _proposals(database: Database) -> dict[str, bool]:
    """Member name -> decided (the proposal has a verdict) of the 2026 proposals."""
    async with database.session_scope() as db:
        rows = await db.exec(
            select(Member.name, FiveLeadProposal.assessment_id)
            .join(FiveLeadProposal, col(FiveLeadProposal.member_id) == col(Member.id))
            .where(FiveLeadProposal.year == 2026)
        )
        return {str(name): decided is not None for name, decided in rows.all()}


async def _summary(user: SimUser, text: str = "/summary") -> list[str]:
    """The lines of a /summary answer; the chart that follows it is read too."""
    answer = await say(user, text)
    chart = await user.wait_for_reply()
    assert chart.photo is not None
    return (answer.text or "").splitlines()


def _line(text: str | None, start: str) -> str:
    """The line of a shown text that starts so."""
    found = [line for line in (text or "").splitlines() if line.startswith(start)]
    assert found, f"no line starting {start!r} in {text!r}"
    return found[0]


async def test_proposed_confirmed_and_the_sixty_percent_marks_at_every_scope(
    database: Database, clock: ManualClock, person: Person
) -> None:
    county = await _county(database, clock, person)
    secretary, organiser, staff = county.secretary, county.organiser, county.staff
    roster = await say(secretary, "/assess")
    assert roster.text == (
        "东风村党支部 · 2026年五带头\n"
        "五带头：尚未评定\n"
        "点按符合“五带头”的党员进行推荐；⏳ 等待乡镇确认（再点一次撤回），✅ 已确认，✖ 未确认。"
    )
    assert buttons(roster) == ["⬜ 张三", "⬜ 李四", "⬜ 王五", "⬜ 赵六"]
    # One tap a member proposes; a tap on ⏳ withdraws.
    proposed = await tap(secretary, "⬜ 张三", message_id=roster.message_id)
    assert (proposed.text or "").startswith("已推荐：张三，等待乡镇确认。\n\n东风村党支部")
    assert buttons(proposed) == ["⏳ 张三", "⬜ 李四", "⬜ 王五", "⬜ 赵六"]
    for name in ("李四", "王五", "赵六"):
        await tap(secretary, f"⬜ {name}", message_id=roster.message_id)
    withdrawn = await tap(secretary, "⏳ 赵六", message_id=roster.message_id)
    assert (withdrawn.text or "").startswith("已撤回：赵六。")
    await tap(secretary, "⬜ 赵六", message_id=roster.message_id)
    assert await _proposals(database) == {n: False for n in ("张三", "李四", "王五", "赵六")}
    assert await _verdicts(database) == {}  # proposals do not count

    # The township sees the four waiting and decides each with one tap.
    overview = await say(organiser, "/assess")
    assert "五带头：尚未评定" in (overview.text or "").splitlines()
    review = await tap(organiser, "📝 五带头推荐（4）", message_id=overview.message_id)
    assert review.text == (
        "📝 2026年五带头推荐：4 人待确认\n"
        "• 张三 · 东风村党支部\n• 李四 · 东风村党支部\n"
        "• 王五 · 东风村党支部\n• 赵六 · 东风村党支部"
    )
    assert buttons(review)[:2] == ["✅ 张三", "✖ 张三"]
    assert buttons(review)[-1] == "⬆ 返回"
    for name in ("张三", "李四", "王五"):
        review = await tap(organiser, f"✅ {name}", message_id=review.message_id)
    assert (review.text or "").startswith("已确认：王五。\n\n📝 2026年五带头推荐：1 人待确认")
    review = await tap(organiser, "✖ 赵六", message_id=review.message_id)
    assert (review.text or "").startswith("未予确认：赵六。\n\n📝 2026年五带头推荐：0 人待确认")
    assert await _verdicts(database) == {"张三": True, "李四": True, "王五": True, "赵六": False}

    # The secretary is told through the outbox, and the roster shows the verdicts.
    await secretary.world.outboxes_drained()
    told = [m.text for m in secretary.messages[-4:]]
    assert told == [
        "✅ 2026年五带头：东风村党支部的张三已获确认。",
        "✅ 2026年五带头：东风村党支部的李四已获确认。",
        "✅ 2026年五带头：东风村党支部的王五已获确认。",
        "✖ 2026年五带头：东风村党支部的赵六未获确认。",
    ]
    again = await say(secretary, "/assess")
    assert _line(again.text, "五带头：") == "五带头：3/4（75%）✅ 目标 60%"
    assert buttons(again) == ["✅ 张三", "✅ 李四", "✅ 王五", "✖ 赵六"]

    # 东风镇: 3 of 6 members (柳树村 has 2) -> below 60 %; 柳树村's secretary proposes 孙七.
    assert "五带头：3/6（50%）⚠️ 目标 60%" in await _summary(organiser)
    liushu = await _secretary(database, county, person, "T01-V02")
    screen = await say(liushu, "/assess")
    await tap(liushu, "⬜ 孙七", message_id=screen.message_id)
    overview = await say(organiser, "/assess")
    review = await tap(organiser, "📝 五带头推荐（1）", message_id=overview.message_id)
    await tap(organiser, "✅ 孙七", message_id=review.message_id)
    lines = await _summary(organiser)
    assert "五带头：4/6（66%）✅ 目标 60%" in lines
    assert any("柳树村党支部：" in line and "五带头 50%⚠️" in line for line in lines)
    assert any("东风村党支部：" in line and "五带头 75%" in line for line in lines)
    # By member, a confirmed member is marked.
    lines = await _summary(secretary)
    assert any("张三：" in line and line.endswith("五带头✓") for line in lines)
    assert not any("赵六：" in line and "五带头✓" in line for line in lines)
    assert "五带头：3/4（75%）✅ 目标 60%" in lines

    # The county: 4 of 8 below the mark until the county confirms 前进村's 吴九 (5 of 8).
    assert "五带头：4/8（50%）⚠️ 目标 60%" in await _summary(staff)
    qianjin = await _secretary(database, county, person, "T02-V01")
    screen = await say(qianjin, "/assess")
    await tap(qianjin, "⬜ 吴九", message_id=screen.message_id)
    overview = await say(staff, "/assess")
    assert "五带头：4/8（50%）⚠️ 目标 60%" in (overview.text or "").splitlines()
    review = await tap(staff, "📝 五带头推荐（1）", message_id=overview.message_id)
    await tap(staff, "✅ 吴九", message_id=review.message_id)
    lines = await _summary(staff)
    assert "五带头：5/8（62%）✅ 目标 60%" in lines
    assert any("东风镇党委：" in line and "五带头 66%" in line for line in lines)
    assert any("前进乡党委：" in line and "五带头 50%⚠️" in line for line in lines)

    assert await audit_actions(database, prefix="assess.five_lead.") == [
        *["assess.five_lead.propose"] * 4,
        "assess.five_lead.withdraw",
        "assess.five_lead.propose",
        *["assess.five_lead.confirm"] * 3,
        "assess.five_lead.reject",
        "assess.five_lead.propose",
        "assess.five_lead.confirm",
        "assess.five_lead.propose",
        "assess.five_lead.confirm",
    ]


async def _counts(database: Database) -> tuple[int, int, int]:
    """(proposals, five-lead verdicts, outbox rows) in the database."""
    async with database.session_scope() as db:
        proposals = (await db.exec(select(func.count()).select_from(FiveLeadProposal))).one()
        verdicts = (
            await db.exec(
                select(func.count())
                .select_from(Assessment)
                .where(Assessment.scheme == AssessmentScheme.FIVE_LEAD)
            )
        ).one()
        outbox = (
            await db.exec(
                select(func.count())
                .select_from(Delivery)
                .where(col(Delivery.dedupe_key).startswith("five_lead:"))
            )
        ).one()
        return int(proposals), int(verdicts), int(outbox)


async def _proposal_id(database: Database, member: Member) -> int:
    async with database.session_scope() as db:
        found = (
            await db.exec(
                select(FiveLeadProposal.id).where(FiveLeadProposal.member_id == member.id)
            )
        ).one()
        assert found is not None
        return int(found)


async def test_forged_and_cross_township_buttons_are_refused_and_write_nothing(
    database: Database, clock: ManualClock, person: Person
) -> None:
    county = await _county(database, clock, person)
    secretary, organiser, staff = county.secretary, county.organiser, county.staff
    refused, stale = gettext("zh", NOT_ALLOWED), gettext("zh", STALE_BUTTON)
    zhang, wu = county.members["张三"], county.members["吴九"]
    qianjin = await _secretary(database, county, person, "T02-V01")
    screen = await say(qianjin, "/assess")
    await tap(qianjin, "⬜ 吴九", message_id=screen.message_id)
    wu_proposal = await _proposal_id(database, wu)
    before = await _counts(database)
    assert before == (1, 0, 1)  # the county is asked: 前进乡 has no organiser on the bot
    audited = await audit_log(database, prefix="assess.")

    # 东风村's secretary cannot propose 前进村's member, nor decide; staff do not propose.
    assert (await forge(secretary, PROPOSE.encode(2026, id_of(wu), 1, 0))).text == refused
    assert (await forge(secretary, ROSTER.encode(2026, id_of(county.tree.qianjin), 0))).text == (
        refused
    )
    assert (await forge(secretary, DECIDE.encode(2026, wu_proposal, 1, 0))).text == refused
    assert (await forge(staff, PROPOSE.encode(2026, id_of(zhang), 1, 0))).text == refused
    assert (await forge(organiser, PROPOSE.encode(2026, id_of(zhang), 1, 0))).text == refused
    # 东风镇's organiser cannot decide a proposal of 前进乡's branch.
    assert (await forge(organiser, DECIDE.encode(2026, wu_proposal, 1, 0))).text == refused
    assert (await forge(organiser, DECIDE.encode(2026, wu_proposal, 0, 0))).text == refused
    # Nor see it waiting: the township's review lists its own branches only.
    overview = await say(organiser, "/assess")
    assert not any(label.startswith("📝") for label in buttons(overview))
    # Shapes the codec accepts but the use case does not: a year ahead, a verdict of 2.
    assert (await forge(qianjin, PROPOSE.encode(2999, id_of(wu), 0, 0))).text == stale
    assert (await forge(qianjin, PROPOSE.encode(2026, id_of(wu), 2, 0))).text == stale
    assert (await forge(staff, DECIDE.encode(2026, wu_proposal, 2, 0))).text == stale
    assert (await forge(staff, DECIDE.encode(2026, 999999, 1, 0))).text == gettext("zh", WITHDRAWN)
    assert (await forge(staff, "fl.d:2026:x:1:0")).text is not None  # not our shape at all
    assert await _counts(database) == before
    assert await audit_log(database, prefix="assess.") == audited

    # Once decided, the other verdict is refused and the proposal cannot be withdrawn.
    await forge(staff, DECIDE.encode(2026, wu_proposal, 1, 0))
    after = await _counts(database)
    decided = gettext("zh", ALREADY_DECIDED).format(name="吴九", year=2026)
    assert (await forge(staff, DECIDE.encode(2026, wu_proposal, 0, 0))).text == decided
    assert (await forge(qianjin, PROPOSE.encode(2026, id_of(wu), 0, 0))).text == decided
    assert await _counts(database) == after
    assert await _verdicts(database) == {"吴九": True}


async def test_double_taps_make_one_row(
    database: Database, clock: ManualClock, person: Person
) -> None:
    county = await _county(database, clock, person)
    secretary, organiser = county.secretary, county.organiser
    zhang = county.members["张三"]
    screen = await say(secretary, "/assess")
    await tap(secretary, "⬜ 张三", message_id=screen.message_id)
    # The same button again (a double tap, or an old screen): still one proposal.
    await forge(secretary, PROPOSE.encode(2026, id_of(zhang), 1, 0))
    await forge(secretary, PROPOSE.encode(2026, id_of(zhang), 1, 0))
    assert await _counts(database) == (1, 0, 1)  # the township asked once
    proposal = await _proposal_id(database, zhang)
    overview = await say(organiser, "/assess")
    review = await tap(organiser, "📝 五带头推荐（1）", message_id=overview.message_id)
    await tap(organiser, "✅ 张三", message_id=review.message_id)
    await forge(organiser, DECIDE.encode(2026, proposal, 1, 0))
    await forge(organiser, DECIDE.encode(2026, proposal, 1, 0))
    # One proposal, one verdict, two messages: the township asked, the secretary told.
    assert await _counts(database) == (1, 1, 2)
    assert await audit_actions(database, prefix="assess.five_lead.") == [
        "assess.five_lead.propose",
        "assess.five_lead.confirm",
    ]
    await secretary.world.outboxes_drained()
    told = [m.text for m in secretary.messages if "五带头" in (m.text or "")]
    assert told.count("✅ 2026年五带头：东风村党支部的张三已获确认。") == 1


async def test_a_big_branch_is_paged(
    database: Database, clock: ManualClock, person: Person
) -> None:
    county = await _county(database, clock, person)
    for number in range(20):
        await add_member(database, county.tree.dongfeng, f"党员{number:02d}")
    secretary = county.secretary
    first = await say(secretary, "/assess")
    assert "第 1/3 页" in (first.text or "")
    assert buttons(first)[-1] == "下一页 ▶"
    second = await tap(secretary, "下一页 ▶", message_id=first.message_id)
    assert "第 2/3 页" in (second.text or "")
    assert buttons(second)[-2:] == ["◀ 上一页", "下一页 ▶"]
    # A proposal from page 2 keeps the page.
    label = buttons(second)[0]
    after = await tap(secretary, label, message_id=first.message_id)
    assert "第 2/3 页" in (after.text or "")
    assert buttons(after)[0] == label.replace("⬜", "⏳")


async def test_the_township_is_asked_and_decides_in_one_tap(
    database: Database, clock: ManualClock, world: World, person: Person
) -> None:
    county = await _county(database, clock, person)
    secretary, organiser, staff = county.secretary, county.organiser, county.staff
    screen = await say(secretary, "/assess")
    for name in ("张三", "李四", "王五"):
        await tap(secretary, f"⬜ {name}", message_id=screen.message_id)

    # 东风镇's organiser hears of each proposal with 确认 / 不确认; the county does not.
    asked = {
        name: await arrives(world, organiser, f"推荐{name}") for name in ("张三", "李四", "王五")
    }
    assert asked["张三"].text == "📝 2026年五带头：东风村党支部推荐张三。张三是否符合“五带头”？"
    assert [buttons(m) for m in asked.values()] == [["确认", "不确认"]] * 3
    assert not [m for m in staff.messages if "五带头" in (m.text or "")]

    # One tap decides: the message keeps its text with the outcome instead of buttons.
    done = await tap(organiser, "确认", message_id=asked["张三"].message_id)
    assert done.message_id == asked["张三"].message_id
    assert done.text == (
        "📝 2026年五带头：东风村党支部推荐张三。张三是否符合“五带头”？\n已确认：张三。"
    )
    assert buttons(done) == []
    not_done = await tap(organiser, "不确认", message_id=asked["李四"].message_id)
    assert (not_done.text or "").endswith("\n未予确认：李四。")
    assert await _verdicts(database) == {"张三": True, "李四": False}
    told = await arrives(world, secretary, "李四未获确认")
    assert told.text == "✖ 2026年五带头：东风村党支部的李四未获确认。"
    assert "✅ 2026年五带头：东风村党支部的张三已获确认。" in [m.text for m in secretary.messages]

    # A repeat changes nothing; the other verdict is refused, a verdict is final.
    zhang = county.members["张三"]
    zhang_proposal = await _proposal_id(database, zhang)
    message = asked["张三"].message_id
    await organiser.tap_data(VERDICT.encode(zhang_proposal, id_of(zhang), 1), message_id=message)
    again = await organiser.wait_for_reply()
    assert (again.text or "").endswith("\n已确认过：张三。")
    other = VERDICT.encode(zhang_proposal, id_of(zhang), 0)
    query = await organiser.tap_data(other, message_id=message)
    refused = await organiser.wait_for_callback_answer(query)
    assert refused.text == gettext("zh", ALREADY_DECIDED).format(name="张三", year=2026)
    # Withdrawn before the township tapped: the old message decides nothing.
    roster = await say(secretary, "/assess")
    await tap(secretary, "⏳ 王五", message_id=roster.message_id)
    withdrawn = await tap_refused(organiser, "确认", message_id=asked["王五"].message_id)
    assert withdrawn.text == gettext("zh", WITHDRAWN)
    # A button naming another member than its proposal's is refused the same way.
    await tap(secretary, "⬜ 赵六", message_id=roster.message_id)
    zhao = await _proposal_id(database, county.members["赵六"])
    forged = VERDICT.encode(zhao, id_of(county.members["张三"]), 1)
    assert (await forge(organiser, forged)).text == gettext("zh", WITHDRAWN)
    # 前进村's proposal goes to the county (前进乡 has no organiser on the bot), and
    # 东风镇's organiser cannot decide it with a forged button.
    qianjin = await _secretary(database, county, person, "T02-V01")
    screen = await say(qianjin, "/assess")
    await tap(qianjin, "⬜ 吴九", message_id=screen.message_id)
    ask_county = await arrives(world, staff, "推荐吴九")
    assert ask_county.text == "📝 2026年五带头：前进村党支部推荐吴九。吴九是否符合“五带头”？"
    wu = county.members["吴九"]
    wu_proposal = await _proposal_id(database, wu)
    cross = VERDICT.encode(wu_proposal, id_of(wu), 1)
    assert (await forge(organiser, cross)).text == gettext("zh", NOT_ALLOWED)
    assert (await forge(qianjin, cross)).text == gettext("zh", NOT_ALLOWED)
    assert "吴九" not in await _verdicts(database)
    await tap(staff, "确认", message_id=ask_county.message_id)
    assert (await _verdicts(database))["吴九"] is True
    assert (await arrives(world, qianjin, "已获确认")).text == (
        "✅ 2026年五带头：前进村党支部的吴九已获确认。"
    )
    assert await audit_actions(database, prefix="assess.five_lead.confirm") == [
        "assess.five_lead.confirm",
        "assess.five_lead.confirm",
    ]
    assert await audit_actions(database, prefix="assess.five_lead.reject") == [
        "assess.five_lead.reject"
    ]
