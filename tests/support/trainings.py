"""Shared pieces of the training tests (not a test module): a published training and reads."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.clock import ManualClock
from bot.trainings import TrainingPlan, publish
from storage import Database
from storage.models import (
    Delivery,
    MemberStatus,
    OrgUnit,
    TrainingConfirmation,
    TrainingKind,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def publish_training(
    database: Database,
    clock: ManualClock,
    *,
    actor: int,
    org: OrgUnit,
    title: str = "学习新党章",
    hours: str = "2",
    deadline: date = date(2026, 3, 10),
    status: MemberStatus | None = None,
    questions: list[tuple[str, list[str], int]] | None = None,
) -> int:
    """Publish a training as ``actor`` through the use case (the flow has its own test)."""
    assert org.id is not None
    async with database.session_scope() as db:
        published = await publish(
            db=db,
            actor=actor,
            plan=TrainingPlan(
                audience_org_id=org.id,
                audience_status=status,
                kind=TrainingKind.LECTURE,
                title=title,
                hours=Decimal(hours),
                deadline=deadline,
                cost_per_person=Decimal("30.00"),
                funding_source=None,
                materials_text="认真学习第一章",
                questions=list(questions or []),
            ),
            now=clock.now(),
            tz=SHANGHAI,
        )
    return published.training_id


async def confirmations(database: Database) -> dict[int, str]:
    """member id -> how completion was recorded."""
    async with database.session_scope() as db:
        rows = (await db.exec(select(TrainingConfirmation))).all()
    return {row.member_id: row.method.value for row in rows}


async def training_deliveries(database: Database) -> list[Delivery]:
    async with database.session_scope() as db:
        rows = await db.exec(
            select(Delivery)
            .where(col(Delivery.dedupe_key).startswith("training:"))
            .order_by(col(Delivery.id))
        )
        return list(rows.all())
