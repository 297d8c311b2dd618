"""The demo county as data: who is on which roster, who holds which office, and the ids.

Names and texts come from demo/county.toml; everything else is drawn from a fixed
random seed, so every fresh sandbox shows the same people. The plan is also how a restarted
sandbox finds its demo cast again (by branch and name) without any extra table.
"""

from __future__ import annotations

import itertools
import random
import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from storage.models import Gender, MemberStatus, Role

DEMO_SEED = 20260302
#: A roster member's Telegram id in the sandbox is this plus the member's id.
TELEGRAM_ID_BASE = 8_000_000
#: People who are on no roster yet (they register with an invitation) get ids from here.
VISITOR_ID_BASE = 9_000_000

MOBILE_PREFIXES = ("138", "139", "137", "135", "136", "150", "151", "152", "158", "159", "187")
DATA_FILE = Path(__file__).with_name("county.toml")


@dataclass(frozen=True, slots=True)
class BranchData:
    """A village branch of the demo county and how many members its roster has."""

    code: str
    name: str
    size: int


@dataclass(frozen=True, slots=True)
class TownshipData:
    code: str
    name: str  # of the township committee
    place: str  # the township itself
    branches: tuple[BranchData, ...]


@dataclass(frozen=True, slots=True)
class NoticeData:
    """A past notice: sent by the county, the first township or its first branch."""

    org: str  # "county" | "township" | "branch"
    days_ago: int
    ack_share: float
    text: str


@dataclass(frozen=True, slots=True)
class CurrentTraining:
    """A training still open when the sandbox starts (demo/county.toml)."""

    org: str  # "county", "township" (the first township) or "branch" (its first branch)
    title: str
    kind: str
    hours: str
    days_ago: int
    deadline_in: int
    done_share: float
    materials: str
    questions: tuple[tuple[str, tuple[str, ...], int], ...]


@dataclass(frozen=True, slots=True)
class DemoData:
    """The names and texts of the demo county (demo/county.toml)."""

    county_code: str
    county_name: str
    townships: tuple[TownshipData, ...]
    surnames: str
    male: tuple[str, ...]
    female: tuple[str, ...]
    topics: tuple[str, ...]
    places: tuple[str, ...]
    county_training: str
    township_training: str  # with {place}
    current_trainings: tuple[CurrentTraining, ...]
    notices: tuple[NoticeData, ...]


@cache
def demo_data() -> DemoData:
    """Read the demo county's data file once."""
    raw = tomllib.loads(DATA_FILE.read_text(encoding="utf-8"))
    return DemoData(
        county_code=raw["county"]["code"],
        county_name=raw["county"]["name"],
        townships=tuple(
            TownshipData(
                t["code"],
                t["name"],
                t["place"],
                tuple(BranchData(b["code"], b["name"], int(b["members"])) for b in t["branches"]),
            )
            for t in raw["townships"]
        ),
        surnames=raw["names"]["surnames"],
        male=tuple(raw["names"]["male"]),
        female=tuple(raw["names"]["female"]),
        topics=tuple(raw["sessions"]["topics"]),
        places=tuple(raw["sessions"]["places"]),
        county_training=raw["trainings"]["county"],
        township_training=raw["trainings"]["township"],
        current_trainings=tuple(
            CurrentTraining(
                t["org"],
                t["title"],
                t["kind"],
                t["hours"],
                int(t["days_ago"]),
                int(t["deadline_in"]),
                float(t["done_share"]),
                t["materials"],
                tuple(
                    (q["text"], tuple(q["options"]), int(q["answer"]))
                    for q in t.get("questions", [])
                ),
            )
            for t in raw["trainings"]["current"]
        ),
        notices=tuple(
            NoticeData(n["org"], int(n["days_ago"]), float(n["ack_share"]), n["text"])
            for n in raw["notices"]
        ),
    )


@dataclass(frozen=True, slots=True)
class PlannedMember:
    """One roster person of the plan."""

    name: str
    gender: Gender
    phone: str | None
    status: MemberStatus
    joined_on: date | None
    registered: bool  # linked to a Telegram account
    diligence: float  # how likely to attend a session


@dataclass(frozen=True, slots=True)
class CastRole:
    """A demo person of the web page, or one of the other office holders."""

    key: str  # "county_staff", "organiser", "secretary", "secretary_2", "member", "member_2"
    role: Role | None  # None: a plain member
    scope_code: str | None  # the org the role is held on
    branch_code: str  # the roster the person is on
    index: int  # position in that branch's planned roster


#: The six people the page opens a chat for, in order.
CAST: tuple[CastRole, ...] = (
    CastRole("county_staff", Role.COUNTY_STAFF, "C", "T01-V01", 0),
    CastRole("organiser", Role.TOWNSHIP_ORGANISER, "T01", "T01-V02", 0),
    CastRole("secretary", Role.SECRETARY, "T01-V01", "T01-V01", 1),
    CastRole("secretary_2", Role.SECRETARY, "T02-V01", "T02-V01", 0),
    CastRole("member", None, None, "T01-V01", 2),
    CastRole("member_2", None, None, "T02-V01", 1),
)


@dataclass(frozen=True, slots=True)
class DemoPlan:
    """Who is where in the demo county, and who holds which office."""

    rosters: dict[str, list[PlannedMember]]  # branch code -> members
    offices: tuple[CastRole, ...]  # the cast first, then the other secretaries and organisers


def roster_telegram_id(member_id: int) -> int:
    """The sandbox Telegram id of a roster member."""
    return TELEGRAM_ID_BASE + member_id


def plan_demo(seed: int = DEMO_SEED) -> DemoPlan:
    """The whole demo county as data, the same for the same seed."""
    rng = random.Random(seed)
    used_names: set[str] = set()
    used_phones: set[str] = set()
    offices = (*CAST, *_other_offices())
    pinned = {(o.branch_code, o.index) for o in offices}  # office holders use Telegram
    rosters: dict[str, list[PlannedMember]] = {}
    for township in demo_data().townships:
        for branch in township.branches:
            rosters[branch.code] = [
                _plan_member(rng, used_names, used_phones, pinned=(branch.code, i) in pinned)
                for i in range(branch.size)
            ]
    return DemoPlan(rosters=rosters, offices=offices)


def _plan_member(
    rng: random.Random, used_names: set[str], used_phones: set[str], *, pinned: bool
) -> PlannedMember:
    gender = Gender.FEMALE if rng.random() < 0.4 else Gender.MALE
    name = _name(rng, gender)
    while name in used_names:
        name = _name(rng, gender)
    used_names.add(name)
    phone: str | None = None
    if pinned or rng.random() < 0.88:  # many elders have no phone of their own
        phone = _phone(rng)
        while phone in used_phones:
            phone = _phone(rng)
        used_phones.add(phone)
    roll = rng.random()
    joined: date | None = date(rng.randint(1972, 2023), rng.randint(1, 12), rng.randint(1, 28))
    status = MemberStatus.FULL
    if roll > 0.95 and not pinned:
        status, joined = MemberStatus.ACTIVIST, None
    elif roll > 0.91 and not pinned:
        status, joined = MemberStatus.DEVELOPMENT_TARGET, None
    elif roll > 0.86 and not pinned:
        status, joined = MemberStatus.PROBATIONARY, date(2025, rng.randint(6, 12), 1)
    registered = pinned or (phone is not None and rng.random() < 0.7)
    return PlannedMember(
        name=name,
        gender=gender,
        phone=phone,
        status=status,
        joined_on=joined,
        registered=registered,
        diligence=rng.uniform(0.55, 0.98),
    )


def _name(rng: random.Random, gender: Gender) -> str:
    data = demo_data()
    given = data.female if gender is Gender.FEMALE else data.male
    return rng.choice(data.surnames) + rng.choice(given)


def _phone(rng: random.Random) -> str:
    return f"+86{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"


def _other_offices() -> tuple[CastRole, ...]:
    """A secretary for every branch and an organiser for every township the cast leaves."""
    taken = {(c.branch_code, c.index) for c in CAST}
    held = {(c.role, c.scope_code) for c in CAST}
    offices: list[CastRole] = []

    def first_free(branch_code: str) -> int:
        index = next(i for i in itertools.count() if (branch_code, i) not in taken)
        taken.add((branch_code, index))
        return index

    for township in demo_data().townships:
        for branch in township.branches:
            if (Role.SECRETARY, branch.code) not in held:
                index = first_free(branch.code)
                offices.append(CastRole("", Role.SECRETARY, branch.code, branch.code, index))
        if (Role.TOWNSHIP_ORGANISER, township.code) not in held:
            last = township.branches[-1].code
            offices.append(
                CastRole("", Role.TOWNSHIP_ORGANISER, township.code, last, first_free(last))
            )
    return tuple(offices)


def visitor_name(number: int, seed: int = DEMO_SEED) -> str:
    """A plausible name for the n-th newcomer (someone not on any roster yet)."""
    rng = random.Random(seed * 1000 + number)
    return _name(rng, Gender.FEMALE if rng.random() < 0.4 else Gender.MALE)


def visitor_phone(telegram_user_id: int) -> str:
    """A stable mobile number for a sandbox Telegram account that has none on a roster."""
    return f"+86199{telegram_user_id % 10**8:08d}"
