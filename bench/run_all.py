"""`make bench`: run every benchmark module's main() (quick scale), in order."""

import importlib
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
MODULES = ["storage", "ingest", "dashboard"]


def main() -> int:
    sys.path.insert(0, str(BENCH))
    failed = []
    for name in MODULES:
        if not (BENCH / f"{name}.py").exists():
            print(f"-- bench/{name}.py: not present, skipped")
            continue
        print(f"== bench/{name}.py")
        try:
            importlib.import_module(name).main([])
        except Exception as exc:  # report and go on with the others
            print(f"!! bench/{name}.py failed: {exc!r}")
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
