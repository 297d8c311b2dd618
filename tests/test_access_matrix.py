"""Who may do what, where: the whole policy grid, then every privileged command and button.

Part 1 checks bot/access.py over Role x Action x (inside / outside the scope) against a
table written out by hand. Part 2 drives the real bot through the emulator: one simulated
person per role and scope tries every privileged command and forged button; allowed cells
succeed, the others get a clear refusal and leave the database exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.access import Action, Grant, Principal, allows, may_end_role, may_give_role
from bot.app import PartyApplication
from bot.assessments import NO_ASSESS
from bot.i18n import gettext
from bot.refusals import NOT_ALLOWED
from handlers import checkin, duties, funds, invitations, rectify, roles, roster, survey
from handlers.menus import MENU
from sandbox import SimUser
from storage import Database
from storage.models import MemberStatus, OrgKind, Role
from tests.support.builders import Tree, add_member, build_tree, grant
from tests.support.conversation import say
from tests.support.roles import (
    Person,
    forge,
    snapshot,
)

# --- part 1: the policy itself ------------------------------------------------------------

A = Action
# What each role may do inside its own scope (anything else, and everything outside, is no).
MAY: dict[Role, set[Action]] = {
    Role.MEMBER: set(),
    Role.DEPUTY_SECRETARY: {
        A.INVITE,
        A.DECIDE_REGISTRATION,
        A.VIEW_ROSTER,
        A.SCHEDULE_SESSION,
        A.MANAGE_ATTENDANCE,
        A.SEND_NOTICE,
    },
    Role.SECRETARY: {
        A.INVITE,
        A.DECIDE_REGISTRATION,
        A.VIEW_ROSTER,
        A.SCHEDULE_SESSION,
        A.MANAGE_ATTENDANCE,
        A.SEND_NOTICE,
        A.APPOINT,
        A.MANAGE_MEMBERS,
        A.VIEW_REPORTS,
        A.MANAGE_TRAININGS,
        A.PROPOSE_FIVE_LEAD,
    },
    Role.TOWNSHIP_ORGANISER: {
        A.INVITE,
        A.DECIDE_REGISTRATION,
        A.VIEW_ROSTER,
        A.SCHEDULE_SESSION,
        A.MANAGE_ATTENDANCE,
        A.SEND_NOTICE,
        A.APPOINT,
        A.MANAGE_MEMBERS,
        A.VIEW_REPORTS,
        A.VIEW_AUDIT,
        A.MANAGE_TRAININGS,
        A.RECORD_FUNDS,
        A.ASSESS,
        A.RECTIFY,
    },
    # everything, importing rosters included, but proposing five-lead members (the branch's)
    Role.COUNTY_STAFF: set(Action) - {A.PROPOSE_FIVE_LEAD},
    Role.INSPECTOR: {A.VIEW_ROSTER, A.VIEW_REPORTS, A.VIEW_AUDIT},
    Role.ADMIN: set(Action),
}
# Where each role sits in the unit test's tree, and a place inside and outside its reach.
COUNTY, TOWN, BRANCH, OTHER_TOWN, OTHER_BRANCH = "/1/", "/1/2/", "/1/2/3/", "/1/5/", "/1/5/6/"
SEAT: dict[Role, tuple[str, str, str | None]] = {  # (granted at, inside, outside)
    Role.MEMBER: (BRANCH, BRANCH, OTHER_BRANCH),
    Role.DEPUTY_SECRETARY: (BRANCH, BRANCH, OTHER_BRANCH),
    Role.SECRETARY: (BRANCH, BRANCH, OTHER_BRANCH),
    Role.TOWNSHIP_ORGANISER: (TOWN, BRANCH, OTHER_BRANCH),
    Role.COUNTY_STAFF: (COUNTY, BRANCH, None),  # the county reaches everything
    Role.INSPECTOR: (COUNTY, BRANCH, None),
    Role.ADMIN: (COUNTY, BRANCH, None),
}


def _principal(role: Role) -> Principal:
    at = SEAT[role][0]
    return Principal.of(1, [Grant(role, int(at.strip("/").split("/")[-1]), at)])


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_policy_grid(role: Role, action: Action) -> None:
    principal = _principal(role)
    _, inside, outside = SEAT[role]
    assert allows(principal, action, inside) is (action in MAY[role])
    if outside is not None:
        assert allows(principal, action, outside) is False
    # A subtree is reached, a parent never is (except from the county, which has none).
    if SEAT[role][0] != COUNTY:
        assert allows(principal, action, COUNTY) is False


# Which roles each role may give at a branch (by appointment), inside its scope.
GIVES_AT_BRANCH: dict[Role, set[Role]] = {
    Role.MEMBER: set(),
    Role.DEPUTY_SECRETARY: set(),
    Role.SECRETARY: {Role.DEPUTY_SECRETARY, Role.MEMBER},
    Role.TOWNSHIP_ORGANISER: {Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.MEMBER},
    Role.COUNTY_STAFF: {Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.MEMBER},
    Role.INSPECTOR: set(),
    Role.ADMIN: {Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.MEMBER},
}
GIVES_AT_COUNTY: dict[Role, set[Role]] = {
    Role.COUNTY_STAFF: set(),  # county roles rank 4: only the admin (5) gives them
    Role.ADMIN: {Role.COUNTY_STAFF, Role.INSPECTOR},
}


HELD_AT: dict[Role, tuple[str, OrgKind]] = {
    Role.DEPUTY_SECRETARY: (BRANCH, OrgKind.VILLAGE_BRANCH),
    Role.SECRETARY: (BRANCH, OrgKind.VILLAGE_BRANCH),
    Role.TOWNSHIP_ORGANISER: (TOWN, OrgKind.TOWNSHIP),
    Role.COUNTY_STAFF: (COUNTY, OrgKind.COUNTY),
    Role.INSPECTOR: (COUNTY, OrgKind.COUNTY),
    Role.ADMIN: (COUNTY, OrgKind.COUNTY),
}


@pytest.mark.parametrize("giver", list(Role))
@pytest.mark.parametrize("given", list(Role))
def test_appointment_grid(giver: Role, given: Role) -> None:
    principal = _principal(giver)
    _, inside, outside = SEAT[giver]
    branch = OrgKind.VILLAGE_BRANCH
    expected = given in GIVES_AT_BRANCH[giver]
    assert may_give_role(principal, given, inside, branch, via=A.APPOINT) is expected
    if outside is not None:
        assert may_give_role(principal, given, outside, branch, via=A.APPOINT) is False
    if giver in GIVES_AT_COUNTY:
        at_county = given in GIVES_AT_COUNTY[giver]
        assert may_give_role(principal, given, COUNTY, OrgKind.COUNTY, via=A.APPOINT) is at_county
    # Removing a grant takes the same right as giving that role where the grant is held.
    if given is not Role.MEMBER:
        seat, kind = HELD_AT[given]
        holder = Principal.of(2, [Grant(given, 9, seat)])
        may_give = may_give_role(principal, given, seat, kind, via=A.APPOINT)
        assert may_end_role(principal, holder, Grant(given, 9, seat)) is may_give


def test_nobody_removes_their_own_last_admin_role() -> None:
    admin = Principal.of(1, [Grant(Role.ADMIN, 1, COUNTY)])
    assert may_end_role(admin, admin, Grant(Role.ADMIN, 1, COUNTY)) is False


def test_the_audit_cli_policy_is_view_audit() -> None:
    # `partybot audit` runs on the server as the operator; in the bot the same log is for
    # the roles holding VIEW_AUDIT, and only them.
    assert {r for r in Role if A.VIEW_AUDIT in MAY[r]} == {
        Role.TOWNSHIP_ORGANISER,
        Role.COUNTY_STAFF,
        Role.INSPECTOR,
        Role.ADMIN,
    }


# --- part 2: through the emulator ---------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """A role held inside ("in") or outside ("out") the scope of 东风村党支部."""

    role: Role | None  # None: a plain member, no role
    scope: str

    def __str__(self) -> str:
        return f"{self.role.value if self.role else 'member'}-{self.scope}"

    async def seat(self, database: Database, tree: Tree, user: SimUser) -> None:
        home = tree.dongfeng if self.scope == "in" else tree.qianjin
        await add_member(database, home, f"{self}", telegram_user_id=user.id)
        if self.role is None:
            return
        place = {
            Role.DEPUTY_SECRETARY: home,
            Role.SECRETARY: home,
            Role.TOWNSHIP_ORGANISER: tree.townships["T01" if self.scope == "in" else "T02"],
        }.get(self.role, tree.county)
        await grant(database, user.id, self.role, place)


# The commands: allowed for a role anywhere in its scope, so "in" and "out" agree. "y"
# means "not refused for lack of rights" (an officer may still hear that there is nothing
# to do yet); "-" means the refusal, with nothing changed.
COMMANDS = (
    "/members",
    "/appoint",
    "/invite",
    "/invites",
    "/notice",
    "/notices",
    "/greetings",
    "/newsession",
    "/checkin",
    "/attendance",
    "/minutes",
    "/newtraining",
    "/fund",
    "/funds",
    "/duties",
    "/leaders",
    "/assess",
    "/commend",
    "/laggards",
    "/rectify",
    "/survey",
    "/summary",  # last: the chart and the workbook follow the first answer
    "/export",
)
# fmt: off
COMMAND_MATRIX: dict[str, str] = {
    #                      mb ap iv is nc ns gr se ck at mi nt fd fs du ld as cm lg rc sv su ex
    "member":             "-  -  -  -  -  -  -  -  -  -  -  -  -  -  -  -  -  -  -  -  -  -  -",
    "deputy_secretary":   "y  -  y  y  y  y  y  y  y  y  y  -  -  -  -  -  -  -  -  -  -  -  -",
    "secretary":          "y  y  y  y  y  y  y  y  y  y  y  y  -  y  y  -  y  -  -  y  -  y  y",
    "township_organiser": "y  y  y  y  y  y  y  y  y  y  y  y  y  y  y  -  y  y  y  y  -  y  y",
    "county_staff":       "y  y  y  y  y  y  y  y  y  y  y  y  y  y  y  y  y  y  y  y  y  y  y",
    "inspector":          "y  -  -  -  -  -  -  -  -  y  -  -  -  y  y  -  -  -  -  -  -  y  y",
    "admin":              "y  y  y  y  y  y  y  y  y  y  y  y  y  y  y  y  y  y  y  y  y  y  y",
}
# fmt: on

# The buttons act on 东风村党支部 (transfer: to 柳树村党支部, same township): roster page,
# member card, status step, deactivation, transfer, appointment, invitation, greetings off.
BUTTONS = ("roster", "card", "status", "deactivate", "transfer", "appoint", "invite", "greet")
# fmt: off
BUTTON_MATRIX: dict[str, str] = {
    #                          ros crd sta dea tra apg ivc grt
    "member-in":              "-   -   -   -   -   -   -   -",
    "deputy_secretary-in":    "y   y   -   -   -   -   y   y",
    "deputy_secretary-out":   "-   -   -   -   -   -   -   -",
    "secretary-in":           "y   y   y   y   -   y   y   y",
    "secretary-out":          "-   -   -   -   -   -   -   -",
    "township_organiser-in":  "y   y   y   y   y   y   y   y",
    "township_organiser-out": "-   -   -   -   -   -   -   -",
    "county_staff-in":        "y   y   y   y   y   y   y   y",
    "inspector-in":           "y   y   -   -   -   -   -   -",
    "admin-in":               "y   y   y   y   y   y   y   y",
}
# fmt: on

ACTORS = [
    Actor(None, "in"),
    *(
        Actor(role, scope)
        for role in (Role.DEPUTY_SECRETARY, Role.SECRETARY)
        for scope in ("in", "out")
    ),
    Actor(Role.TOWNSHIP_ORGANISER, "in"),
    Actor(Role.TOWNSHIP_ORGANISER, "out"),
    Actor(Role.COUNTY_STAFF, "in"),
    Actor(Role.INSPECTOR, "in"),
    Actor(Role.ADMIN, "in"),
]


def expected_cells(actor: Actor) -> dict[str, bool]:
    role = actor.role.value if actor.role else "member"
    marks = [*COMMAND_MATRIX[role].split(), *BUTTON_MATRIX[str(actor)].split()]
    return dict(zip((*COMMANDS, *BUTTONS), (mark == "y" for mark in marks), strict=True))


COMMAND_REFUSALS: dict[str, str] = {
    "/members": roster.NO_ROSTER,
    "/appoint": roles.NO_APPOINTING,
    "/invite": invitations.NO_INVITE,
    "/invites": invitations.NO_MANAGE,
    "/checkin": checkin.NOTHING_OPEN,  # members check in with it; only officers get the screen
    "/fund": funds.NO_FUNDS,
    "/funds": funds.NO_REPORT,
    "/duties": duties.NO_DUTIES,
    "/leaders": duties.NO_LEADERS,
    "/assess": NO_ASSESS,
    "/commend": NO_ASSESS,
    "/laggards": rectify.NO_RECTIFY,
    "/rectify": rectify.NO_ORDERS,
    "/survey": survey.NO_SURVEY,
}


def test_the_matrix_covers_every_actor_and_every_command(bot_app: PartyApplication) -> None:
    assert sorted(BUTTON_MATRIX) == sorted(str(actor) for actor in ACTORS)
    assert set(COMMAND_MATRIX) == {role.value for role in Role}
    privileged = {f"/{c.name}" for c in MENU if c.action is not None}
    assert privileged <= set(COMMANDS), "a privileged command is missing from the matrix"


async def _target(
    database: Database, tree: Tree, name: str, *, linked_as: int | None = None
) -> int:
    member = await add_member(
        database, tree.dongfeng, name, status=MemberStatus.ACTIVIST, telegram_user_id=linked_as
    )
    assert member.id is not None
    return member.id


@pytest.mark.parametrize("actor", ACTORS, ids=str)
async def test_every_privileged_command_and_button(
    actor: Actor, person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    user = person(str(actor))
    await actor.seat(database, tree, user)
    expected = expected_cells(actor)
    outcome: dict[str, bool] = {}

    for command in COMMANDS:
        before = await snapshot(database)
        reply = await say(user, command)
        refusal = gettext("zh", COMMAND_REFUSALS.get(command, NOT_ALLOWED))
        outcome[command] = reply.text != refusal
        if not outcome[command]:
            assert await snapshot(database) == before, command

    dongfeng, liushu = tree.dongfeng.id, tree.liushu.id
    member = await _target(database, tree, "目标")
    buttons = {
        "roster": f"ros.p:{dongfeng}:0",
        "card": f"ros.m:{member}:0",
        "status": f"ros.sy:{await _target(database, tree, '甲')}:0:1:step",
        "deactivate": f"ros.dy:{await _target(database, tree, '乙')}:left",
        "transfer": f"ros.ty:{await _target(database, tree, '丙')}:{dongfeng}:{liushu}",
        "appoint": f"apt.gy:{dongfeng}:{await _target(database, tree, '丁', linked_as=9001)}:0",
        "invite": f"inv.c:{dongfeng}:member:10:7",
        "greet": f"grt.set:{dongfeng}:0",
    }
    for name, data in buttons.items():
        before = await snapshot(database)
        answer = await forge(user, data)
        outcome[name] = not answer.show_alert
        if outcome[name]:
            if name not in ("roster", "card"):
                assert await snapshot(database) != before, f"{name} was allowed but did nothing"
        else:
            assert answer.text == gettext("zh", NOT_ALLOWED), name
            assert await snapshot(database) == before, name

    assert outcome == expected
