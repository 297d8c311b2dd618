"""`make bench`'s one table: every module's rows collected and printed with their goals."""

from __future__ import annotations

from types import ModuleType

from bench.__main__ import collect, modules
from bench._table import HEADERS, Row, render, spread


def _module(name: str, rows: list[Row]) -> ModuleType:
    module = ModuleType(f"bench.{name}")
    module.main = lambda: rows  # type: ignore[attr-defined]
    return module


def test_rows_of_every_module_are_collected_in_order() -> None:
    first = Row("a figure", "1 s", "2 s base", "0.50x", "<= 1x", True)
    second = Row("another", "3 s", "1 s base", "3.00x", "<= 1.5x", False)
    third = Row("no goal", "5 ms", "", "")
    said: list[str] = []
    rows = collect([_module("one", [first]), _module("two", [second, third])], say=said.append)
    assert rows == [first, second, third]
    assert [line for line in said if line.startswith("==")] == ["== bench.one", "== bench.two"]


def test_the_table_has_one_aligned_line_per_row_and_says_what_is_met() -> None:
    table = render(
        [
            Row("summary p50", "351 ms", "220 ms", "1.59x", "<= 1.5x", False),
            Row("relay overhead", "relay", "bare httpx", spread([0.9, 0.7, 1.1]), ">= 0.7", True),
            Row("db size", "4.1 MB", "", "", "", None),
        ]
    ).splitlines()
    assert [cell.strip() for cell in table[0].split(" | ")] == list(HEADERS)
    assert set(table[1]) == {"-", "+"}
    assert [line.split(" | ")[-1].strip() for line in table[2:]] == ["NO", "yes", ""]
    assert "0.70 / 0.90 / 1.10" in table[3]
    assert len({line.index("|") for line in table if "|" in line}) == 1  # aligned


def test_every_benchmark_module_with_a_main_is_found() -> None:
    names = [module.__name__ for module in modules([])]
    assert {"bench.relay", "bench.pacing", "bench.footprint"} <= set(names)
    assert "bench.county" not in names  # the generator has no main
    assert not any(name.startswith("bench._") for name in names)
