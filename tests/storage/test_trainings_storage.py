"""The trainings aggregate in SQL, on SQLite and on PostgreSQL: audiences written once,
completions, quiz progress, hours per year, officers' progress, and the completion roll-up
per unit and period that reports read; and migration 0008 with data in place."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic import command

from storage import Database, members, sync_url, trainings, upgrade_to_head
from storage.db import alembic_config
from storage.models import ConfirmationMethod, MemberStatus, OrgUnit, TrainingKind
from tests.support.storage import build_tree

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
YEAR_2026 = (datetime(2025, 12, 31, 16, tzinfo=UTC), datetime(2026, 12, 31, 16, tzinfo=UTC))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> Database:
    """The migrated database of each dialect (PostgreSQL only where a server is given)."""
    name = "sqlite_db" if request.param == "sqlite" else "pg_db"
    found: Database = request.getfixturevalue(name)
    return found


async def _training(
    database: Database,
    org: int,
    *,
    hours: str,
    created: datetime,
    status: MemberStatus | None = None,
    deadline: date = date(2026, 3, 10),
) -> tuple[int, int]:
    """A training for the subtree of ``org``; (its id, how many were assigned)."""
    async with database.session_scope() as db:
        unit = await db.get(OrgUnit, org)
        assert unit is not None
        training = await trainings.create_training(
            db=db,
            org_id=org,
            title=f"t{hours}",
            kind=TrainingKind.COURSE,
            held_on=created.date(),
            deadline=deadline,
            hours=Decimal(hours),
            cost_per_person_yuan=Decimal("12.50"),
            funding_source=None,
            audience_org_id=org,
            audience_status=status,
            materials_text=None,
            materials_file_id=None,
            materials_file_kind=None,
            created_by=1,
            now=created,
        )
        assigned = await trainings.assign_audience(
            db=db, training=training, path=unit.path, status=status, now=created
        )
        assert training.id is not None
        assert training.cost_yuan == Decimal("12.50") * assigned
        return training.id, assigned


async def _confirm(
    database: Database, training_id: int, member_ids: list[int], at: datetime
) -> list[int]:
    async with database.session_scope() as db:
        return await trainings.confirm(
            db=db,
            training_id=training_id,
            member_ids=member_ids,
            method=ConfirmationMethod.BULK,
            marked_by=7,
            now=at,
        )


async def test_audiences_completions_hours_and_roll_ups(database: Database) -> None:
    ids = await build_tree(database)
    people: dict[str, int] = {}
    async with database.session_scope() as db:
        for key, org, status in (
            ("a", "v1", MemberStatus.PROBATIONARY),
            ("b", "v1", MemberStatus.FULL),
            ("c", "v2", MemberStatus.FULL),
            ("d", "v3", MemberStatus.FULL),
            ("gone", "v1", MemberStatus.PROBATIONARY),
        ):
            member = await members.create_member(db=db, name=key, org_id=ids[org], status=status)
            assert member.id is not None
            people[key] = member.id
            if key == "gone":
                member.active = False
                db.add(member)
    a, b, c, d = (people[k] for k in "abcd")

    county, assigned = await _training(database, ids["county"], hours="2", created=NOW)
    assert assigned == 4  # the inactive member is not in it
    township, assigned = await _training(
        database, ids["t1"], hours="1.5", created=NOW, status=MemberStatus.PROBATIONARY
    )
    assert assigned == 1
    old, _ = await _training(
        database, ids["v2"], hours="3", created=datetime(2025, 6, 1, tzinfo=UTC)
    )

    assert await _confirm(database, county, [a], NOW) == [a]
    assert await _confirm(database, county, [a], NOW) == []  # once
    # 23:30 on 31 December in Shanghai: still 2026 there (15:30 UTC).
    assert await _confirm(database, county, [c], datetime(2026, 12, 31, 15, 30, tzinfo=UTC)) == [c]
    assert await _confirm(database, township, [a, c], NOW) == [a]  # c is not in it
    assert await _confirm(database, old, [c], datetime(2025, 6, 2, tzinfo=UTC)) == [c]

    async with database.session_scope() as db:
        assert await trainings.hours_between(
            db=db, member_id=a, since=YEAR_2026[0], until=YEAR_2026[1]
        ) == Decimal("3.5")
        assert await trainings.hours_between(
            db=db, member_id=c, since=YEAR_2026[0], until=YEAR_2026[1]
        ) == Decimal("2.0")
        total = await trainings.completion_total(
            db=db, org_id=ids["county"], since=YEAR_2026[0], until=YEAR_2026[1]
        )
        assert (total.assigned, total.completed, total.hours) == (5, 3, Decimal("5.5"))
        by_township = await trainings.completion_by_unit(
            db=db, parent_id=ids["county"], since=YEAR_2026[0], until=YEAR_2026[1]
        )
        assert [(u.org_id, u.assigned, u.completed, u.hours) for u in by_township] == [
            (ids["t1"], 4, 3, Decimal("5.5")),
            (ids["t2"], 1, 0, Decimal("0.0")),
        ]
        by_branch = await trainings.completion_by_unit(
            db=db, parent_id=ids["t1"], since=YEAR_2026[0], until=YEAR_2026[1]
        )
        assert [(u.org_id, u.assigned, u.completed, u.hours) for u in by_branch] == [
            (ids["v1"], 3, 2, Decimal("3.5")),
            (ids["v2"], 1, 1, Decimal("2.0")),
        ]
        last_year = await trainings.completion_by_unit(
            db=db,
            parent_id=ids["t1"],
            since=datetime(2024, 12, 31, 16, tzinfo=UTC),
            until=YEAR_2026[0],
        )
        assert [(u.org_id, u.assigned, u.completed, u.hours) for u in last_year] == [
            (ids["v2"], 1, 1, Decimal("3.0"))
        ]

        t1_path = (await db.get(OrgUnit, ids["t1"])).path  # type: ignore[union-attr]
        progress = await trainings.progress_in_scope(
            db=db, paths=[t1_path], today=date(2026, 3, 20)
        )
        assert [(p.training_id, p.total, p.done, p.overdue) for p in progress] == [
            (old, 1, 1, 0),
            (township, 1, 1, 0),
            (county, 3, 2, 1),  # b is overdue; d is in another township
        ]
        pending = await trainings.assignees_in_scope(
            db=db, training_id=county, paths=[t1_path], only_pending=True
        )
        assert [p.member_id for p in pending] == [b]
        assert d not in {p.member_id for p in pending}

        mine = await trainings.member_trainings(db=db, member_id=a)
        assert [(m.training_id, m.confirmed_at is not None) for m in mine] == [
            (county, True),
            (township, True),
        ]


async def test_quiz_progress_moves_once_per_answer(database: Database) -> None:
    ids = await build_tree(database)
    async with database.session_scope() as db:
        member = await members.create_member(
            db=db, name="a", org_id=ids["v1"], status=MemberStatus.FULL
        )
    training, _ = await _training(database, ids["v1"], hours="1", created=NOW)
    async with database.session_scope() as db:
        seat = await trainings.quiz_seat(db=db, training_id=training, telegram_user_id=5)
        assert seat is None  # no such account in the training
    async with database.session_scope() as db:
        (row,) = await trainings.assignees_in_scope(db=db, training_id=training, paths=["/"])
        assert (row.member_id, row.on_telegram, row.done) == (member.id, False, False)
    async with database.session_scope() as db:
        result = await db.exec(
            sa.text("SELECT id FROM training_assignee")  # type: ignore[call-overload]
        )
        (assignee_id,) = result.one()
        assert await trainings.pass_question(db=db, assignee_id=assignee_id, position=0)
        assert not await trainings.pass_question(db=db, assignee_id=assignee_id, position=0)
        assert await trainings.fail_quiz(db=db, assignee_id=assignee_id, position=1)
        assert not await trainings.fail_quiz(db=db, assignee_id=assignee_id, position=1)
        quiz = await db.exec(
            sa.text(  # type: ignore[call-overload]
                "SELECT quiz_next, quiz_failures FROM training_assignee"
            )
        )
        assert tuple(quiz.one()) == (0, 1)


def _migration_round_trip(url: str) -> None:
    """Trainings recorded before 0008 keep their rows up and down."""
    upgrade_to_head(url, revision="0007")
    engine = sa.create_engine(sync_url(url))
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO org_unit (id, code, name, kind, path, active, greetings_enabled,"
            " created_at) VALUES (1, 'C', '县', 'county', '/1/', true, true, '2026-01-01')"
        )
        conn.exec_driver_sql(
            "INSERT INTO member (id, name, org_id, status, gender, active, created_at,"
            " updated_at) VALUES (1, '甲', 1, 'full', 'unknown', true, '2026-01-01',"
            " '2026-01-01'), (2, '乙', 1, 'full', 'unknown', true, '2026-01-01', '2026-01-01')"
        )
        conn.exec_driver_sql(
            "INSERT INTO training (id, org_id, title, held_on, hours, cost_yuan, created_by,"
            " created_at) VALUES (1, 1, '冬训', '2026-01-05', 8.0, 300.00, 9, '2026-01-05')"
        )
        conn.exec_driver_sql(
            "INSERT INTO training_confirmation (training_id, member_id, confirmed_at,"
            " marked_by) VALUES (1, 1, '2026-01-05', NULL), (1, 2, '2026-01-05', 9)"
        )
    upgrade_to_head(url)
    with engine.begin() as conn:
        assert conn.exec_driver_sql(
            "SELECT title, kind, deadline, cost_per_person_yuan FROM training"
        ).all() == [("冬训", "course", None, None)]
        assert conn.exec_driver_sql(
            "SELECT member_id, method FROM training_confirmation ORDER BY member_id"
        ).all() == [(1, "self"), (2, "bulk")]
    command.downgrade(alembic_config(url), "0007")
    with engine.begin() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM training_confirmation").scalar() == 2
        assert conn.exec_driver_sql("SELECT title FROM training").scalar() == "冬训"
    engine.dispose()


async def test_migration_0008_keeps_trainings_up_and_down(sqlite_url: str) -> None:
    await asyncio.to_thread(_migration_round_trip, sqlite_url)


@pytest.mark.postgres
async def test_migration_0008_keeps_trainings_up_and_down_postgres(postgres_url: str) -> None:
    await asyncio.to_thread(_migration_round_trip, postgres_url)
