"""Run the benchmark modules of bench/ and print one table of every figure at the end.

``python -m bench`` runs every module that has a ``main() -> list[Row]`` (in name order);
``python -m bench relay pacing`` runs those named. Each module prints its own detail as it
goes; the table at the end collects their rows (bench/_table.py).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

from bench._table import Row, render


def modules(names: Sequence[str]) -> list[ModuleType]:
    """The named modules, or every module of the package that has a ``main``."""
    if names:
        return [importlib.import_module(f"bench.{name}") for name in names]
    package = Path(__file__).parent
    found = [
        importlib.import_module(f"bench.{info.name}")
        for info in sorted(pkgutil.iter_modules([str(package)]), key=lambda info: info.name)
        if not info.name.startswith("_")
    ]
    return [module for module in found if callable(getattr(module, "main", None))]


def collect(chosen: Sequence[ModuleType], *, say: Callable[[str], object] = print) -> list[Row]:
    """Run each module's ``main`` in turn and gather the rows they return."""
    rows: list[Row] = []
    for module in chosen:
        say(f"== {module.__name__}")
        start = time.perf_counter()
        rows.extend(module.main())
        say(f"   ({time.perf_counter() - start:.0f} s)")
    return rows


def main(argv: list[str]) -> int:
    """Run the benchmarks and print the table of their figures."""
    start, load = time.perf_counter(), os.getloadavg()
    rows = collect(modules(argv))
    after = os.getloadavg()
    print()
    print(render(rows))
    print(
        f"\n{time.perf_counter() - start:.0f} s on {os.cpu_count()} CPUs; load average"
        f" (1 min) {load[0]:.1f} at the start, {after[0]:.1f} at the end"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
