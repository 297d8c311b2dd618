"""Run every benchmark module in bench/ (each exposes `main() -> None`): `python -m bench`."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    """Run the named benchmarks, or all of them."""
    package = Path(__file__).parent
    names = argv or sorted(
        info.name for info in pkgutil.iter_modules([str(package)]) if not info.name.startswith("_")
    )
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"== bench.{name}")
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
