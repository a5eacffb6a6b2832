"""`make bench`: run every benchmark at its quick scale, each in its own process (each
points Django at its own bench database), and report which failed."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
MODULES = [
    "storage",
    "ingest",
    "brokers",
    "dashboard",
    "many_dashboards",
    "big_account",
    "alarms",
    "statements",
    "agent",
    "notify",
]


def main() -> int:
    failed = []
    for name in MODULES:
        print(f"== bench/{name}.py", flush=True)
        if subprocess.run([sys.executable, str(BENCH / f"{name}.py"), *sys.argv[1:]]).returncode:
            print(f"!! bench/{name}.py failed")
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
