"""Operations behind the bootstrap commands of the CLI: schema, the county, the first admin.

They run before anyone can use the bot, so they take settings and open their own database;
they return a one-line result for the operator and raise BootstrapError for a refusal.
"""

from __future__ import annotations

from bot.access import ROLE_ORG_KINDS
from bot.settings import Settings
from storage import (
    Database,
    accounts,
    audit,
    current_revision,
    head_revision,
    orgs,
    roles,
    upgrade_to_head,
)
from storage.models import OrgKind, Role


class BootstrapError(Exception):
    """A refused operation; the message is one line for the operator."""


def upgrade_database(url: str) -> str:
    """Migrate to the newest schema and say which revision the database is at."""
    upgrade_to_head(url)
    return f"database at revision {current_revision(url)}"


def database_revision(url: str) -> str:
    """Say which revision the database is at, and whether it is the newest."""
    current, head = current_revision(url), head_revision()
    if current is None:
        return f"database is empty; run `partybot db upgrade` (newest revision {head})"
    suffix = " (newest)" if current == head else f" (newest is {head}: run `partybot db upgrade`)"
    return f"database at revision {current}{suffix}"


async def init_county(settings: Settings, name: str, code: str) -> str:
    """Create the county org once; a second call with the same name is a no-op."""
    name = name.strip()
    if not name:
        raise BootstrapError("--county must not be empty")
    upgrade_to_head(settings.database_url)
    database = Database(settings.database_url)
    try:
        async with database.session_scope() as db:
            county = await orgs.get_county(db=db)
            if county is not None:
                if county.name == name:
                    return f"county {county.name} already exists (code {county.code})"
                raise BootstrapError(
                    f"this database already belongs to {county.name}; one county per database"
                )
            county = await orgs.create_org(db=db, code=code, name=name, kind=OrgKind.COUNTY)
            await audit.record(
                db=db,
                actor=None,
                action="org.create",
                target_kind="org_unit",
                target_id=county.id,
                org_id=county.id,
                detail={"name": name, "via": "cli"},
            )
            return f"created county {name} (code {code})"
    finally:
        await database.dispose()


async def grant_role(settings: Settings, telegram_id: int, role_name: str, org_code: str) -> str:
    """Give a Telegram user a role on an org, e.g. the first county staff member."""
    try:
        role = Role(role_name)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise BootstrapError(f"unknown role {role_name!r}; one of: {known}") from None
    if telegram_id <= 0:
        raise BootstrapError("--telegram-id must be a positive number")
    database = Database(settings.database_url)
    try:
        async with database.session_scope() as db:
            org = await orgs.get_org_by_code(db=db, code=org_code)
            if org is None:
                raise BootstrapError(f"no org with code {org_code!r}")
            assert org.id is not None
            if org.kind not in ROLE_ORG_KINDS[role]:
                kinds = ", ".join(sorted(ROLE_ORG_KINDS[role]))
                raise BootstrapError(f"{role.value} is held on a {kinds}, not a {org.kind}")
            await accounts.ensure_account(db=db, telegram_user_id=telegram_id)
            await roles.grant_role(
                db=db,
                telegram_user_id=telegram_id,
                role=role,
                org_id=org.id,
                granted_by=None,
            )
            await audit.record(
                db=db,
                actor=None,
                action="role.grant",
                target_kind="telegram_account",
                target_id=telegram_id,
                org_id=org.id,
                detail={"role": role.value, "via": "cli"},
            )
            return f"granted {role.value} on {org.name} ({org.code}) to {telegram_id}"
    finally:
        await database.dispose()
