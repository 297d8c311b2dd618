"""The rectification and survey aggregates on SQLite and PostgreSQL: the ladder's claims
are taken once, an answer is one row per rater and unit however often it is saved, the
results are counts, and `By.BRANCH` finds every branch of a subtree."""

from __future__ import annotations

from datetime import UTC, date, datetime

from storage import Database, accounts, members, orgs
from storage import rectification as orders
from storage import satisfaction as survey
from storage.models import MemberStatus, OrgKind, Role, Satisfaction, SurveyRaters
from storage.reports import branches
from storage.roles import grant_role
from tests.support.storage import build_tree

NOW = datetime(2026, 4, 15, 2, 0, tzinfo=UTC)


async def test_the_ladder_claims_each_step_once(each_db: Database) -> None:
    tree = await build_tree(each_db)
    async with each_db.session_scope() as db:
        order = await orders.create_order(
            db=db,
            org_id=tree["v1"],
            year=2026,
            criticism="通报批评",
            actions="整改",
            issued_on=date(2026, 4, 15),
            deadline=date(2026, 4, 30),
            remind_on=date(2026, 4, 28),
            issued_by=1,
        )
        assert order.id is not None
        await orders.add_report(
            db=db,
            order_id=order.id,
            note="进展",
            photo_ids=["p"],
            reported_by=2,
            now=NOW,
        )
    async with each_db.session_scope() as db:
        assert await orders.next_ladder_days(
            db=db, after=date(2026, 4, 15), county_after_days=7
        ) == [date(2026, 4, 28), date(2026, 5, 1)]
        assert await orders.reminders_due(db=db, day=date(2026, 4, 27)) == []
        [due] = await orders.reminders_due(db=db, day=date(2026, 4, 28))
        assert (due.org_name, due.reports, due.parent_id) == ("一村", 1, tree["t1"])
        assert await orders.claim_reminder(db=db, order_id=due.id, now=NOW)
        assert not await orders.claim_reminder(db=db, order_id=due.id, now=NOW)
        assert (
            await orders.ladder_candidates(db=db, level=0, deadline_before=date(2026, 4, 30)) == []
        )
        [late] = await orders.ladder_candidates(db=db, level=0, deadline_before=date(2026, 5, 1))
        assert await orders.step_level(db=db, order_id=late.id, from_level=0, to_level=1)
        assert not await orders.step_level(db=db, order_id=late.id, from_level=0, to_level=1)
        assert await orders.close_order(
            db=db, order_id=late.id, closed_by=1, note="好", photo_ids=[], now=NOW
        )
        assert not await orders.close_order(
            db=db, order_id=late.id, closed_by=1, note="好", photo_ids=[], now=NOW
        )
        assert not await orders.step_level(db=db, order_id=late.id, from_level=1, to_level=2)
        listed = await orders.orders_under(db=db, path="/", open_only=False, limit=5)
        assert [view.id for view in listed] == [late.id]
        assert await orders.orders_under(db=db, path="/", open_only=True, limit=5) == []


async def test_survey_answers_are_one_row_and_results_counts(each_db: Database) -> None:
    tree = await build_tree(each_db)
    async with each_db.session_scope() as db:
        dept = await orgs.create_org(
            db=db,
            code="D01",
            name="农业局",
            kind=OrgKind.COUNTY_DEPARTMENT,
            parent_id=tree["county"],
        )
        for user_id in (101, 102, 103):
            await accounts.ensure_account(db=db, telegram_user_id=user_id)
        await grant_role(
            db=db,
            telegram_user_id=101,
            role=Role.SECRETARY,
            org_id=tree["v1"],
            granted_by=None,
        )
        await grant_role(  # a department's secretary is no rater
            db=db,
            telegram_user_id=103,
            role=Role.SECRETARY,
            org_id=dept.id or 0,
            granted_by=None,
        )
        for user_id, org in ((101, "v1"), (102, "v3")):
            await members.create_member(
                db=db,
                name=f"m{user_id}",
                org_id=tree[org],
                status=MemberStatus.FULL,
                telegram_user_id=user_id,
            )
        opened = await survey.create_survey(
            db=db, year=2026, raters=SurveyRaters.MEMBERS, opened_by=1, now=NOW
        )
        assert opened is not None
        assert opened.id is not None
        assert (
            await survey.create_survey(
                db=db, year=2026, raters=SurveyRaters.MEMBERS, opened_by=1, now=NOW
            )
            is None
        )
    assert dept.id is not None
    async with each_db.session_scope() as db:
        secretaries = await survey.raters(db=db, kind=SurveyRaters.SECRETARIES)
        assert [r.telegram_user_id for r in secretaries] == [101]
        everyone = await survey.raters(db=db, kind=SurveyRaters.MEMBERS)
        assert [r.telegram_user_id for r in everyone] == [101, 102]
        assert await survey.is_rater(db=db, kind=SurveyRaters.MEMBERS, telegram_user_id=102)
        assert not await survey.is_rater(
            db=db, kind=SurveyRaters.SECRETARIES, telegram_user_id=103
        )
        for choice in (Satisfaction.SATISFIED, Satisfaction.SATISFIED, Satisfaction.BASICALLY):
            await survey.save_answer(
                db=db, survey_id=opened.id, unit_id=dept.id, rater_id=101, choice=choice
            )
        await survey.save_answer(
            db=db,
            survey_id=opened.id,
            unit_id=dept.id,
            rater_id=102,
            choice=Satisfaction.DISSATISFIED,
        )
        assert await survey.save_comment(
            db=db, survey_id=opened.id, unit_id=dept.id, rater_id=102, comment="b"
        )
        assert await survey.save_comment(
            db=db, survey_id=opened.id, unit_id=dept.id, rater_id=101, comment="a"
        )
        assert not await survey.save_comment(
            db=db, survey_id=opened.id, unit_id=dept.id, rater_id=103, comment="丙"
        )
    async with each_db.session_scope() as db:
        [result] = await survey.results(db=db, survey_id=opened.id)
        assert (result.name, result.satisfied, result.basically, result.dissatisfied) == (
            "农业局",
            0,
            1,
            1,
        )
        assert await survey.comments(db=db, survey_id=opened.id) == [
            ("农业局", "a"),  # by the text, not by who or when
            ("农业局", "b"),
        ]
        assert await survey.own_answers(db=db, survey_id=opened.id, rater_id=101) == {
            dept.id: Satisfaction.BASICALLY
        }
        assert await survey.close_survey(db=db, survey_id=opened.id, now=NOW)
        assert not await survey.close_survey(db=db, survey_id=opened.id, now=NOW)
        assert [b.code for b in await branches(db=db, path="/")] == [
            "D01",
            "T01-V01",
            "T01-V02",
            "T02-V01",
        ]
