"""A private Mosquitto broker for tests and benchmarks: own port, own config, own data dir.

The machine's broker keeps Mosquitto's default 1,000-message queue and silently drops
QoS 1 messages past it; every broker started here sets the queue limits for the load
and keeps persistence on, so restarts lose nothing.
"""

import shutil
import subprocess
import tempfile
from pathlib import Path

from certificados.mosquitto import PERSISTENCE  # the generated config's, measured as shipped
from tds_testing.ports import free_port, wait_listening

# `user root`: started as root, Mosquitto otherwise drops to the `mosquitto` user, cannot
# write the temp data dir and silently runs without persistence (ignored when not root).
BASE_CONFIG = """\
user root
listener {port} 127.0.0.1
allow_anonymous true
{persistence}persistence_location {data_dir}/
max_queued_messages 1000000
max_queued_bytes 0
max_inflight_messages 10000
max_packet_size 1048576
log_dest file {data_dir}/mosquitto.log
log_type error
log_type warning
log_type notice
"""


class PrivateMosquitto:
    """Starts `mosquitto -c <conf>`; `restart()` keeps the same port and data.

    The conf is BASE_CONFIG (or `config`, a template with {port} and {data_dir}) written
    into a temp dir; or, with `conf_path` and `port`, a config file made elsewhere (the
    one `manage.py mosquitto_config` generates), whose directory is then left in place."""

    def __init__(
        self,
        *,
        config: str | None = None,
        port: int | None = None,
        conf_path: Path | None = None,
    ):
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self._owns_dir = conf_path is None
        if conf_path is not None:
            self.conf, self.dir = conf_path, conf_path.parent
            return
        self.dir = Path(tempfile.mkdtemp(prefix="tds-mosquitto-"))
        text = config if config is not None else BASE_CONFIG
        self.conf = self.dir / "mosquitto.conf"
        self.conf.write_text(
            text.format(port=self.port, data_dir=self.dir, persistence=PERSISTENCE)
        )

    def log(self) -> str:
        path = self.dir / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10) -> "PrivateMosquitto":
        self.proc = subprocess.Popen(
            ["mosquitto", "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_listening(self.port, self.proc, timeout=timeout, what="mosquitto", log=self.log)
        return self

    def stop(self, timeout: float = 10) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """kill -9: no chance to save anything."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def saved_after(self, wall_time: float) -> bool:
        """Whether the broker has written its database (`mosquitto.db`, replaced whole on
        each save) since `wall_time` (time.time()). Mosquitto 2.0 saves when more than
        `autosave_interval` whole seconds have passed since the last save: with 1, every
        2 s, so a session younger than that may not be on disk yet."""
        path = self.dir / "mosquitto.db"
        return path.exists() and path.stat().st_mtime > wall_time

    def restart(self, *, crash: bool = False) -> None:
        self.kill() if crash else self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        if self._owns_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
