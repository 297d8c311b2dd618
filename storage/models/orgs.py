"""Org units: the county tree (县委 -> 乡镇党委 -> 村党支部 -> 党小组, plus departments)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models.base import created_at_column, enum_check, enum_column, fk
from storage.types import utcnow

__all__ = ["OrgKind", "OrgUnit"]


class OrgKind(StrEnum):
    """What kind of node an org unit is; decides which rules and ratings apply to it."""

    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE_BRANCH = "village_branch"
    COUNTY_DEPARTMENT = "county_department"
    GRASSROOTS_STATION = "grassroots_station"
    PARTY_GROUP = "party_group"


class OrgUnit(SQLModel, table=True):
    """One node of the org tree.

    ``path`` is the materialized path of ids ("/1/5/23/") so a subtree is one indexed
    ``LIKE '/1/5/%'`` query instead of a recursive walk. It is filled right after the
    insert (the id is needed) by ``storage.orgs.create_org``.
    """

    __tablename__ = "org_unit"
    __table_args__ = (
        sa.UniqueConstraint("parent_id", "name"),
        enum_check("kind", OrgKind),
        sa.CheckConstraint(
            "(kind = 'county' AND parent_id IS NULL)"
            " OR (kind <> 'county' AND parent_id IS NOT NULL)",
            name="county_is_root",
        ),
        sa.Index("ix_org_unit_path", "path", postgresql_ops={"path": "text_pattern_ops"}),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=sa.Column(sa.String(32), nullable=False, unique=True))
    name: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    kind: OrgKind = Field(sa_column=enum_column(OrgKind))
    parent_id: int | None = Field(default=None, sa_column=fk("org_unit.id", nullable=True))
    path: str = Field(default="", sa_column=sa.Column(sa.String(255), nullable=False))
    active: bool = Field(default=True, sa_column=sa.Column(sa.Boolean, nullable=False))
    # Branches send members a greeting on their political birthday unless switched off.
    greetings_enabled: bool = Field(
        default=True, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true())
    )
    # A village flagged poverty-stricken (贫困村): a filter of /summary and /export.
    poverty_village: bool = Field(
        default=False,
        sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()),
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())
