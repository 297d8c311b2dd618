"""The house's arrows point one way: a test reads every import and fails on one that doesn't.

handlers -> bot -> storage and schedules -> bot -> storage; storage/ and sandbox/ import
nothing of ours; bot/ imports neither handlers/ nor schedules/, except the composition roots
(bot/app.py, bot/cli.py) and the demo/ package beside them. Imports inside functions and
under TYPE_CHECKING count too: an arrow is an arrow however late it is drawn.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = frozenset({"bot", "handlers", "storage", "schedules", "sandbox", "demo", "bench", "tests"})
COMPOSITION_ROOTS = frozenset({"bot/app.py", "bot/cli.py"})

# Which of our top-level packages each room may not import.
FORBIDDEN: dict[str, frozenset[str]] = {
    "storage": OURS - {"storage"},
    "sandbox": OURS - {"sandbox"},
    "bot": frozenset({"handlers", "schedules", "sandbox", "demo", "bench", "tests"}),
    "schedules": frozenset({"handlers", "sandbox", "demo", "bench", "tests"}),
    "handlers": frozenset({"schedules", "sandbox", "demo", "bench", "tests"}),
}


@dataclass(frozen=True)
class Arrow:
    """One import that points the wrong way."""

    module: str
    line: int
    target: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.target}"


def imported_packages(tree: ast.AST, package: str) -> list[tuple[int, str]]:
    """(line, top-level package) of every absolute or relative import in a module."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name.split(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                found.append((node.lineno, package))
            elif node.module:
                found.append((node.lineno, node.module.split(".")[0]))
    return found


def wrong_arrows(root: Path) -> list[Arrow]:
    """Every import under root that one of the rooms may not make."""
    arrows: list[Arrow] = []
    for room, forbidden in FORBIDDEN.items():
        for path in sorted((root / room).rglob("*.py")):
            module = path.relative_to(root).as_posix()
            if module in COMPOSITION_ROOTS or "/migrations/versions/" in module:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=module)
            arrows.extend(
                Arrow(module, line, target)
                for line, target in imported_packages(tree, room)
                if target in forbidden
            )
    return arrows


def test_every_import_of_the_house_points_the_right_way() -> None:
    assert [str(arrow) for arrow in wrong_arrows(ROOT)] == []


def test_the_rooms_this_test_reads_exist_and_hold_code() -> None:
    for room in FORBIDDEN:
        assert any((ROOT / room).rglob("*.py")), room


def test_a_wrong_arrow_is_found_wherever_it_is_drawn(tmp_path: Path) -> None:
    files = {
        "storage/orgs.py": "from bot.access import ROLE_RANK\n",
        "storage/lazy.py": "def f() -> None:\n    import handlers.roster\n",
        "bot/roster.py": "from handlers import roster\nfrom storage import orgs\n",
        "bot/app.py": "from handlers.registry import register_handlers\n",
        "bot/cli.py": "from demo.app import serve_sandbox\n",
        "sandbox/world.py": "import storage.models\n",
        "schedules/jobs.py": "from bot import relay\nfrom handlers import notices\n",
        "handlers/roster.py": "from . import screens\nfrom bot import roster\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")

    assert sorted(str(arrow) for arrow in wrong_arrows(tmp_path)) == [
        "bot/roster.py:1 imports handlers",
        "sandbox/world.py:1 imports storage",
        "schedules/jobs.py:2 imports handlers",
        "storage/lazy.py:2 imports handlers",
        "storage/orgs.py:1 imports bot",
    ]


#: Handlers whose every step is a bot/ use case (bot/joining.py, bot/registration.py):
#: they reach storage/ only through bot/, so no write can slip back into them.
THIN_HANDLERS = ("handlers/registration.py", "handlers/registration_match.py")


def test_the_join_handlers_reach_storage_only_through_bot() -> None:
    imports = {
        module: sorted(
            {
                target
                for _, target in imported_packages(
                    ast.parse((ROOT / module).read_text(encoding="utf-8")), "handlers"
                )
                if target in OURS
            }
        )
        for module in THIN_HANDLERS
    }
    assert imports == {module: ["bot", "handlers"] for module in THIN_HANDLERS}


# --- handlers change nothing themselves ---------------------------------------------------
#
# A state change is one use case in bot/ (docs/architecture.md, "A use case has one home");
# a handler may read storage/ for display but never write through it. A storage function
# writes if it adds, deletes or flushes through the database session (`db`), builds an
# INSERT, UPDATE or DELETE, or calls another storage function that does.

#: Calls on the database session that write (a flush only sends what these added).
SESSION_WRITES = frozenset({"add", "add_all", "delete", "merge", "commit"})
#: SQL statements that write, called bare (`update(...)`) or on a SQL module (`sa.insert`).
STATEMENT_WRITES = frozenset({"insert", "update", "delete"})
SQL_MODULES = frozenset({"sa", "sqlalchemy", "sqlmodel", "sqlite", "postgresql"})


def storage_names(tree: ast.AST) -> dict[str, str]:
    """Local name -> qualified name of what a module imports from storage/ (modules as
    `storage.orgs`, functions as `storage.orgs.get_org`); the models are not functions."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module.split(".")[0] != "storage" or node.module.startswith("storage.models"):
                continue
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "storage" and alias.asname:
                    names[alias.asname] = alias.name
    return names


def _called(node: ast.Call, names: dict[str, str], here: str) -> str | None:
    """The qualified storage function a call reaches, if any (`here`: the own module)."""
    func = node.func
    if isinstance(func, ast.Name):
        return names.get(func.id, f"{here}.{func.id}" if here else None)
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        module = names.get(func.value.id)
        return f"{module}.{func.attr}" if module else None
    return None


def writes_itself(node: ast.Call) -> bool:
    """A call that writes without help: db.add(...), sa.update(...), insert(...)."""
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in STATEMENT_WRITES
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        if func.value.id == "db":
            return func.attr in SESSION_WRITES
        return func.value.id in SQL_MODULES and func.attr in STATEMENT_WRITES
    return False


def storage_writers(root: Path) -> set[str]:
    """Every storage function (`storage.<module>.<name>`) that writes, directly or not."""
    calls: dict[str, set[str]] = {}
    writers: set[str] = set()
    for path in sorted((root / "storage").glob("*.py")):
        here = "storage." + path.stem if path.stem != "__init__" else "storage"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = storage_names(tree)
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            qualified = f"{here}.{node.name}"
            found = [call for call in ast.walk(node) if isinstance(call, ast.Call)]
            calls[qualified] = {name for call in found if (name := _called(call, names, here))}
            if any(writes_itself(call) for call in found):
                writers.add(qualified)
    while True:  # a function that calls a writer writes
        more = {name for name, called in calls.items() if called & writers} - writers
        if not more:
            return writers
        writers |= more


def storage_calls(path: Path) -> list[tuple[int, str]]:
    """(line, qualified name) of every call a module makes to a storage/ function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = storage_names(tree)
    return sorted(
        (node.lineno, name)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and (name := _called(node, names, ""))
    )


def handler_writes(root: Path) -> list[str]:
    """Every write a handler module makes itself: a storage writer or `db` itself."""
    writers = storage_writers(root)
    found: list[str] = []
    for path in sorted((root / "handlers").glob("*.py")):
        module = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [
            f"{module}:{line} calls {name}"
            for line, name in storage_calls(path)
            if name in writers
        ]
        found += [
            f"{module}:{node.lineno} writes through the database session"
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and writes_itself(node)
        ]
    return found


def test_handlers_write_only_through_a_use_case_in_bot() -> None:
    assert handler_writes(ROOT) == []


def test_the_storage_writers_are_told_from_the_readers() -> None:
    writers = storage_writers(ROOT)
    assert {
        "storage.notices.acknowledge",  # UPDATE
        "storage.audit.record",  # db.add
        "storage.deliveries.enqueue_many",  # a dialect's INSERT, through a helper
        "storage.attendance.check_in",
        "storage.accounts.upsert_account",
    } <= writers
    assert (
        not {
            "storage.orgs.get_org",
            "storage.notices.recent_notices",
            "storage.attendance.attendance_counts",
            "storage.sessions.sessions_of_orgs",
        }
        & writers
    )


def test_a_write_in_a_handler_is_found(tmp_path: Path) -> None:
    files = {
        "storage/notes.py": (
            "import sqlalchemy as sa\n"
            "async def read(*, db):\n    return await db.get(1)\n"
            "async def _mark(db):\n    await db.exec(sa.update(1))\n"
            "async def mark(*, db):\n    await _mark(db)\n"
        ),
        "handlers/notes.py": (
            "from storage import notes\nfrom storage.notes import mark as tick\n"
            "async def on_read(db):\n    await notes.read(db=db)\n"
            "async def on_mark(db):\n    await notes.mark(db=db)\n"
            "async def on_tick(db):\n    await tick(db=db)\n"
            "async def on_add(db):\n    db.add(1)\n"
        ),
        "handlers/alpha.py": "async def on_add(db):\n    db.add(1)\n",  # before notes.py
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")

    assert handler_writes(tmp_path) == [
        "handlers/alpha.py:2 writes through the database session",
        "handlers/notes.py:6 calls storage.notes.mark",
        "handlers/notes.py:8 calls storage.notes.mark",
        "handlers/notes.py:10 writes through the database session",
    ]
