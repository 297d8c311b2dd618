"""The access policy: who may do what, where. Every privileged handler asks here.

A role is granted on an org node and reaches that node's whole subtree (materialised paths
like "/1/5/23/" make "inside the scope" a prefix test). Callback data carries ids, never
trust, so handlers resolve the target's org and ask again on every tap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from storage import roles
from storage.models import OrgKind, Role


class Action(StrEnum):
    """Privileged things people do through the bot or the CLI."""

    INVITE = "invite"  # create, list and revoke invitations
    DECIDE_REGISTRATION = "decide_registration"  # approve or reject pending joins
    APPOINT = "appoint"  # grant and remove roles
    VIEW_ROSTER = "view_roster"
    MANAGE_MEMBERS = "manage_members"  # transfer, deactivate, status, act for a member
    IMPORT_ROSTER = "import_roster"
    VIEW_AUDIT = "view_audit"
    SCHEDULE_SESSION = "schedule_session"
    MANAGE_ATTENDANCE = "manage_attendance"  # approve leave, mark attendance for others
    SEND_NOTICE = "send_notice"
    VIEW_REPORTS = "view_reports"
    MANAGE_TRAININGS = "manage_trainings"  # publish trainings, confirm for members, overdue
    RECORD_FUNDS = "record_funds"  # training and other funds allocated to orgs (/fund)
    MANAGE_DUTIES = "manage_duties"  # leaders' contact points and demonstration sites
    ASSESS = "assess"  # rate the units below one's own (五好 annual assessment)
    PROPOSE_FIVE_LEAD = "propose_five_lead"  # a secretary proposes members (五带头)
    RECTIFY = "rectify"  # list laggard branches below, order and close rectification (限期整改)
    RUN_SURVEY = "run_survey"  # open, close and read the yearly satisfaction survey (满意度测评)


_BRANCH_OFFICER = frozenset(
    {
        Action.INVITE,
        Action.DECIDE_REGISTRATION,
        Action.VIEW_ROSTER,
        Action.SCHEDULE_SESSION,
        Action.MANAGE_ATTENDANCE,
        Action.SEND_NOTICE,
    }
)
_SECRETARY = _BRANCH_OFFICER | {
    Action.APPOINT,
    Action.MANAGE_MEMBERS,
    Action.VIEW_REPORTS,
    Action.MANAGE_TRAININGS,
}
_STAFF = _SECRETARY | {Action.VIEW_AUDIT, Action.RECORD_FUNDS, Action.ASSESS, Action.RECTIFY}

ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.MEMBER: frozenset(),
    Role.DEPUTY_SECRETARY: _BRANCH_OFFICER,
    # Proposing five-lead members is the branch's own: staff confirm, they do not propose.
    Role.SECRETARY: _SECRETARY | {Action.PROPOSE_FIVE_LEAD},
    Role.TOWNSHIP_ORGANISER: _STAFF,
    Role.COUNTY_STAFF: _STAFF | {Action.IMPORT_ROSTER, Action.MANAGE_DUTIES, Action.RUN_SURVEY},
    Role.INSPECTOR: frozenset({Action.VIEW_ROSTER, Action.VIEW_REPORTS, Action.VIEW_AUDIT}),
    Role.ADMIN: frozenset(Action),
}

# Who is "above" whom: a role can be given only by someone ranked strictly higher.
ROLE_RANK: dict[Role, int] = {
    Role.MEMBER: 0,
    Role.DEPUTY_SECRETARY: 1,
    Role.SECRETARY: 2,
    Role.TOWNSHIP_ORGANISER: 3,
    Role.INSPECTOR: 4,
    Role.COUNTY_STAFF: 4,
    Role.ADMIN: 5,
}

_BRANCH_KINDS = frozenset(
    {OrgKind.VILLAGE_BRANCH, OrgKind.COUNTY_DEPARTMENT, OrgKind.GRASSROOTS_STATION}
)
# Where each role may be held: branch roles on a branch, the township role on a township...
ROLE_ORG_KINDS: dict[Role, frozenset[OrgKind]] = {
    Role.MEMBER: _BRANCH_KINDS,
    Role.DEPUTY_SECRETARY: _BRANCH_KINDS,
    Role.SECRETARY: _BRANCH_KINDS,
    Role.TOWNSHIP_ORGANISER: frozenset({OrgKind.TOWNSHIP}),
    Role.COUNTY_STAFF: frozenset({OrgKind.COUNTY}),
    Role.INSPECTOR: frozenset({OrgKind.COUNTY}),
    Role.ADMIN: frozenset({OrgKind.COUNTY}),
}


@dataclass(frozen=True, slots=True)
class Grant:
    """One role on one org subtree, as the policy needs it."""

    role: Role
    org_id: int
    org_path: str


@dataclass(frozen=True, slots=True)
class Principal:
    """The person acting, with every role they hold."""

    telegram_user_id: int
    grants: tuple[Grant, ...] = ()

    @classmethod
    def of(cls, telegram_user_id: int, grants: Iterable[Grant]) -> Principal:
        return cls(telegram_user_id, tuple(grants))

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(grant.role for grant in self.grants)

    @property
    def highest_rank(self) -> int:
        return max((ROLE_RANK[grant.role] for grant in self.grants), default=-1)


def _reaches(grant: Grant, org_path: str) -> bool:
    return org_path.startswith(grant.org_path)


def allows(principal: Principal, action: Action, org_path: str) -> bool:
    """May the principal do `action` on the org at `org_path` (or anything inside it)?"""
    return any(
        action in ROLE_ACTIONS[grant.role] and _reaches(grant, org_path)
        for grant in principal.grants
    )


def allows_below(principal: Principal, action: Action, org_path: str) -> bool:
    """May the principal do `action` on the org from a grant strictly above it?

    For judging a unit: the level above rates it, never the unit's own staff.
    """
    return any(
        action in ROLE_ACTIONS[grant.role]
        and _reaches(grant, org_path)
        and grant.org_path != org_path
        for grant in principal.grants
    )


def may_give_role(
    principal: Principal, role: Role, org_path: str, org_kind: OrgKind, *, via: Action
) -> bool:
    """May the principal give `role` at this org, by appointment or by invitation (`via`)?

    The role must fit the org's kind, the principal must hold `via` there, and one of the
    grants that reach the org must rank strictly above the role being given.
    """
    if org_kind not in ROLE_ORG_KINDS[role]:
        return False
    return _outranks_at(principal, role, org_path, via)


def may_end_role(principal: Principal, holder: Principal, grant: Grant) -> bool:
    """May the principal end `grant` of `holder`, whichever path ends it?

    /appoint's removal, deactivating the holder (停用) and transferring them away all ask
    here. Ending takes the same right as giving: APPOINT where the grant is bound, from a
    rank strictly above the role. Nobody removes their own last admin role.
    """
    if grant not in holder.grants:
        return False
    if (
        grant.role is Role.ADMIN
        and holder.telegram_user_id == principal.telegram_user_id
        and sum(g.role is Role.ADMIN for g in holder.grants) <= 1
    ):
        return False
    return _outranks_at(principal, grant.role, grant.org_path, Action.APPOINT)


def _outranks_at(principal: Principal, role: Role, org_path: str, via: Action) -> bool:
    return any(
        via in ROLE_ACTIONS[grant.role]
        and _reaches(grant, org_path)
        and ROLE_RANK[grant.role] > ROLE_RANK[role]
        for grant in principal.grants
    )


def scope_roots(principal: Principal, action: Action) -> list[Grant]:
    """The grants under which the principal may do `action`, outermost first."""
    roots: list[Grant] = []
    for grant in sorted(principal.grants, key=lambda g: (len(g.org_path), g.org_path)):
        if action in ROLE_ACTIONS[grant.role] and not any(
            _reaches(root, grant.org_path) for root in roots
        ):
            roots.append(grant)
    return roots


async def load_principal(*, db: AsyncSession, telegram_user_id: int) -> Principal:
    """Everything the user may do, read fresh from the database (never from a cache)."""
    held = await roles.roles_of(db=db, telegram_user_id=telegram_user_id)
    return Principal.of(
        telegram_user_id, (Grant(Role(h.role), h.org_id, h.org_path) for h in held)
    )
