"""The delivery channels: e-mail (Django's e-mail, SMTP in production), webhook (signed JSON
POST) and Telegram (Bot API `sendMessage`). Each `send_*` returns when the channel accepted
the message and raises `ChannelError` otherwise; none of them touches the database.

Webhook signature, for receivers (also in the README):
    X-TDS-Timestamp: <unix seconds>
    X-TDS-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>
    Idempotency-Key: <uuid>   (the same on every retry of the same message: drop repeats)
Reject a timestamp more than 5 minutes off (replay) and compare with a constant-time compare.
"""

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

SIGNATURE_HEADER = "X-TDS-Signature"
TIMESTAMP_HEADER = "X-TDS-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
EVENT_HEADER = "X-TDS-Event"
TELEGRAM_MAX_CHARS = 4096


class ChannelError(Exception):
    """The channel did not accept the message; `status` is what it answered, if anything."""

    def __init__(self, message: str, *, status: str = ""):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Accepted:
    status: str  # e.g. "HTTP 200", "SMTP 250", "telegram ok"


def sign(*, secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(*, secret: str, timestamp: str, body: bytes, signature: str, tolerance: int = 300):
    """What a receiver does (used by the tests' receiver); True when genuine and fresh."""
    try:
        fresh = abs(time.time() - int(timestamp)) <= tolerance
    except ValueError:
        return False
    return fresh and hmac.compare_digest(
        sign(secret=secret, timestamp=timestamp, body=body), signature
    )


def _post(url: str, body: bytes, headers: dict) -> tuple[int, bytes]:
    if not url.startswith(("http://", "https://")):
        raise ChannelError("URL inválida (http:// ou https://)")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=settings.TDS_NOTIFY_HTTP_TIMEOUT) as resp:  # noqa: S310
            return resp.status, resp.read(65536)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(65536) if exc.fp else b""
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ChannelError(f"sem conexão: {reason}") from None


def send_webhook(*, url: str, secret: str, key: str, payload: dict, event: str) -> Accepted:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "TDS-New-Webhook/1",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret=secret, timestamp=timestamp, body=body),
        IDEMPOTENCY_HEADER: key,
        EVENT_HEADER: event,
    }
    status, answer = _post(url, body, headers)
    if 200 <= status < 300:
        return Accepted(f"HTTP {status}")
    raise ChannelError(
        f"HTTP {status}: {answer[:200].decode(errors='replace')}", status=f"HTTP {status}"
    )


def send_telegram(*, chat_id: str, text: str, bot_token: str, key: str) -> Accepted:
    """Bot API sendMessage. The API has no idempotency key: a resend after a crash between
    its answer and our commit can show twice in the chat (the README says so)."""
    token = bot_token or settings.TDS_TELEGRAM_BOT_TOKEN
    if not token:
        raise ChannelError("nenhum token de bot do Telegram configurado")
    if len(text) > TELEGRAM_MAX_CHARS:
        text = text[: TELEGRAM_MAX_CHARS - 1] + "…"
    url = f"{settings.TDS_TELEGRAM_API_URL.rstrip('/')}/bot{token}/sendMessage"
    body = json.dumps({"chat_id": chat_id, "text": text, "disable_web_page_preview": True}).encode()
    status, answer = _post(url, body, {"Content-Type": "application/json"})
    try:
        data = json.loads(answer or b"{}")
    except ValueError:
        data = {}
    if status == 200 and data.get("ok") is True:
        return Accepted("telegram ok")
    description = data.get("description") or answer[:200].decode(errors="replace")
    raise ChannelError(f"Telegram HTTP {status}: {description}", status=f"HTTP {status}")


def send_email(*, to: str, subject: str, text: str, html: str | None, key: str) -> Accepted:
    """One message through Django's e-mail backend. The Message-ID is derived from the
    idempotency key, so a resend is recognisably the same message."""
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={
            "Message-ID": f"<{key}@tds-new>",
            "X-TDS-Idempotency-Key": key,
        },
    )
    if html:
        message.attach_alternative(html, "text/html")
    try:
        with get_connection(timeout=settings.TDS_NOTIFY_HTTP_TIMEOUT) as connection:
            sent = connection.send_messages([message])
    except Exception as exc:  # smtplib, socket and backend errors alike
        code = getattr(exc, "smtp_code", "")
        raise ChannelError(f"e-mail: {exc}", status=f"SMTP {code}" if code else "") from None
    if not sent:
        raise ChannelError("e-mail: o servidor não aceitou a mensagem")
    return Accepted("SMTP 250")
