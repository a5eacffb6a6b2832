"""Real receivers on loopback for the notification tests and bench, each a subprocess:

- `smtp`: an aiosmtpd SMTP server; every message is appended to `received.jsonl`;
- `webhook`: an HTTP server that verifies the HMAC-SHA256 signature exactly as the README
  tells a receiver to (its own code, not the sender's), drops repeats by Idempotency-Key
  and records every request (valid or not, new or repeat);
- `telegram`: a stand-in for the Bot API's `sendMessage` (the only part that cannot run
  here): POST /bot<token>/sendMessage with JSON {chat_id, text} -> {"ok": true, ...}.

Fault injection through files in the receiver's directory, read on every request:
`hold` (record the message, then do not answer until the file is removed) and `fail`
(holds a number N: answer the next N requests with an error).

Run: python -m tds_testing.notify_receivers {smtp|webhook|telegram} --port P --dir D [--secret S]
"""

import argparse
import asyncio
import hashlib
import hmac
import json
import signal
import subprocess
import sys
import tempfile
import time
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tds_testing.ports import free_port, wait_listening
from tds_testing.waiting import wait_for

ROOT = Path(__file__).resolve().parent.parent
TELEGRAM_TOKEN = "123456:TEST-token"


def _record(directory: Path, entry: dict) -> None:
    with open(directory / "received.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(entry, ensure_ascii=False) + "\n")
        f.flush()  # readers are other processes on this machine: the page cache suffices


def _take_failure(directory: Path) -> bool:
    path = directory / "fail"
    try:
        n = int(path.read_text().strip() or 0)
    except (FileNotFoundError, ValueError):
        return False
    if n <= 0:
        return False
    path.write_text(str(n - 1))
    return True


def _wait_released(directory: Path) -> None:
    while (directory / "hold").exists():
        time.sleep(0.02)


# --- SMTP ------------------------------------------------------------------------


def run_smtp(port: int, directory: Path) -> None:
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            if _take_failure(directory):
                return "451 4.3.0 falha simulada"
            msg = message_from_bytes(envelope.original_content or envelope.content)
            body = msg.get_payload(decode=True) if not msg.is_multipart() else None
            if msg.is_multipart():
                for part in msg.walk():
                    if part.get_content_type() == "text/plain":
                        body = part.get_payload(decode=True)
                        break
            _record(
                directory,
                {
                    "to": envelope.rcpt_tos,
                    "message_id": msg["Message-ID"],
                    "key": msg["X-TDS-Idempotency-Key"],
                    "subject": str(make_header(decode_header(msg["Subject"] or ""))),
                    "body": (body or b"").decode("utf-8", errors="replace").replace("\r\n", "\n"),
                    "html": any(p.get_content_type() == "text/html" for p in msg.walk()),
                },
            )
            while (directory / "hold").exists():
                await asyncio.sleep(0.02)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    while True:  # SIGTERM ends the process
        time.sleep(3600)


# --- HTTP (webhook, telegram) ----------------------------------------------------


def _http_handler(kind: str, directory: Path, secret: str):
    seen: set[str] = set()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _answer(self, status: int, data: dict) -> None:
            body = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(min(length, 1_000_000))
            if kind == "webhook":
                self._webhook(raw)
            else:
                self._telegram(raw)

        def _webhook(self, raw: bytes) -> None:
            timestamp = self.headers.get("X-TDS-Timestamp", "")
            signature = self.headers.get("X-TDS-Signature", "")
            key = self.headers.get("Idempotency-Key", "")
            expected = (
                "sha256="
                + hmac.new(
                    secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256
                ).hexdigest()
            )
            try:
                fresh = abs(time.time() - int(timestamp)) <= 300
            except ValueError:
                fresh = False
            valid = fresh and hmac.compare_digest(expected, signature)
            failing = valid and _take_failure(directory)
            duplicate = valid and not failing and key in seen
            entry = {"key": key, "valid": valid, "duplicate": duplicate, "failed": failing,
                     "path": self.path, "t": time.time()}  # fmt: skip
            try:
                entry["payload"] = json.loads(raw)
            except ValueError:
                entry["payload"] = None
            _record(directory, entry)
            if not valid:
                self._answer(401, {"erro": "assinatura inválida"})
                return
            if failing:
                self._answer(503, {"erro": "falha simulada"})
                return
            seen.add(key)
            _wait_released(directory)
            self._answer(200, {"ok": True, "repetida": duplicate})

        def _telegram(self, raw: bytes) -> None:
            parts = self.path.strip("/").split("/")
            if len(parts) != 2 or parts[1] != "sendMessage" or not parts[0].startswith("bot"):
                self._answer(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                return
            if parts[0][3:] != TELEGRAM_TOKEN:
                self._answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                return
            try:
                data = json.loads(raw)
            except ValueError:
                data = {}
            chat_id, text = str(data.get("chat_id", "")), data.get("text")
            if _take_failure(directory):
                self._answer(502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
                return
            if not chat_id or not text:
                self._answer(
                    400,
                    {"ok": False, "error_code": 400, "description": "Bad Request: text is empty"},
                )
                return
            if chat_id == "404":
                self._answer(
                    400,
                    {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
                )
                return
            _record(directory, {"chat_id": chat_id, "text": text})
            _wait_released(directory)
            self._answer(
                200,
                {
                    "ok": True,
                    "result": {
                        "message_id": int(time.time() * 1000) % 10**9,
                        "chat": {"id": chat_id},
                        "date": int(time.time()),
                        "text": text,
                    },
                },
            )

    return Handler


def run_http(kind: str, port: int, directory: Path, secret: str) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", port), _http_handler(kind, directory, secret))
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.serve_forever()


# --- the test side ---------------------------------------------------------------


class Receiver:
    """Starts one receiver subprocess on a free port; `entries()` reads what it got."""

    def __init__(self, kind: str, *, secret: str = ""):
        self.kind = kind
        self.secret = secret
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix=f"tds-{kind}-"))
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15) -> "Receiver":
        args = [sys.executable, "-m", "tds_testing.notify_receivers", self.kind,
                "--port", str(self.port), "--dir", str(self.dir), "--secret", self.secret]  # fmt: skip
        self.proc = subprocess.Popen(args, cwd=ROOT)
        wait_listening(self.port, self.proc, timeout=timeout, what=f"{self.kind} receiver")
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def entries(self) -> list[dict]:
        path = self.dir / "received.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def hold(self, on: bool = True) -> None:
        path = self.dir / "hold"
        if on:
            path.touch()
        else:
            path.unlink(missing_ok=True)

    def fail_next(self, n: int) -> None:
        (self.dir / "fail").write_text(str(n))

    def wait_for(self, predicate, timeout: float = 30.0, interval: float = 0.05) -> list[dict]:
        """Entries once `predicate(entries)` holds; AssertionError with them at the deadline."""
        got: list[dict] = []

        def check() -> bool:
            nonlocal got
            got = self.entries()
            return predicate(got)

        what = f"the {self.kind} receiver's condition"
        wait_for(check, timeout=timeout, interval=interval, what=what, log=lambda: f"got {got!r}")
        return got


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["smtp", "webhook", "telegram"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--secret", default="")
    args = parser.parse_args()
    if args.kind == "smtp":
        run_smtp(args.port, args.dir)
    else:
        run_http(args.kind, args.port, args.dir, args.secret)


if __name__ == "__main__":
    main()
