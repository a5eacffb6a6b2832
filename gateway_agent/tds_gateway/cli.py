"""`tds-gateway run --config FILE`: SIGTERM/SIGINT publish "offline" and exit 0;
unsent readings stay in the outbox for the next start."""

import argparse
import logging
import signal
import sys

from . import __version__
from .bootstrap import BootstrapError, load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tds-gateway", description=__doc__)
    parser.add_argument("--version", action="version", version=f"tds-gateway {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="poll the meters and publish their readings")
    run.add_argument("--config", required=True, help="bootstrap file (TOML)")
    run.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    try:
        boot = load(args.config)
    except BootstrapError as exc:
        print(f"tds-gateway: {exc}", file=sys.stderr)
        return 2
    from .agent import Agent

    agent = Agent(boot)

    def _stop(signum, frame):
        agent.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    agent.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
