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
        "bot/members.py": "from handlers import roster\nfrom storage import orgs\n",
        "bot/app.py": "from handlers.registry import register_handlers\n",
        "bot/cli.py": "from demo.app import serve_sandbox\n",
        "sandbox/world.py": "import storage.models\n",
        "schedules/jobs.py": "from bot import relay\nfrom handlers import notices\n",
        "handlers/roster.py": "from . import screens\nfrom bot import members\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")

    assert sorted(str(arrow) for arrow in wrong_arrows(tmp_path)) == [
        "bot/members.py:1 imports handlers",
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
