"""The live feed: an async SSE view streaming only the active account's Redis events."""

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient
from django.urls import reverse

from tds_core.live import publish_live_event


def _reading_event(valor):
    return {
        "type": "readings",
        "readings": [
            {
                "gateway_id": 1,
                "dispositivo_id": 2,
                "dispositivo_codigo": "D01",
                "time": "2026-02-18T14:30:00+00:00",
                "valor": valor,
                "unidade": "kWh",
            }
        ],
    }


async def _next_frame(stream, timeout=3.0):
    return (await asyncio.wait_for(anext(stream), timeout)).decode()


async def _open(user):
    client = AsyncClient()
    await client.aforce_login(user)
    response = await client.get(reverse("telemetria:live_events"))
    return response


def test_stream_carries_own_account_events_only(admin_a, conta_a, conta_b, settings):
    settings.TDS_SSE_HEARTBEAT_SECONDS = 30

    async def scenario():
        response = await _open(admin_a)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/event-stream")
        assert response["Cache-Control"].startswith("no-cache")
        stream = aiter(response.streaming_content)
        first = await _next_frame(stream)
        assert first.startswith("retry: ")
        # Subscribed: another account's event first, then ours, then a status change.
        publish_live_event(conta_id=conta_b.pk, event=_reading_event("999.0000"))
        publish_live_event(conta_id=conta_a.pk, event=_reading_event("123.4500"))
        publish_live_event(
            conta_id=conta_a.pk,
            event={
                "type": "gateway_status",
                "gateway_id": 1,
                "is_online": False,
                "last_seen": None,
            },
        )
        frame = await _next_frame(stream)
        assert frame.startswith("event: readings\n")
        data = json.loads(frame.split("data: ", 1)[1])
        assert data["readings"][0]["valor"] == "123.4500"
        frame = await _next_frame(stream)
        assert frame.startswith("event: gateway_status\n")
        await stream.aclose()

    async_to_sync(scenario)()


def test_heartbeat_when_idle_and_stream_ends_for_reconnect(admin_a, settings):
    settings.TDS_SSE_HEARTBEAT_SECONDS = 0.2
    settings.TDS_SSE_MAX_SECONDS = 1.0

    async def scenario():
        response = await _open(admin_a)
        frames = [part.decode() async for part in response.streaming_content]
        assert frames[0].startswith("retry: ")
        assert frames.count(": ping\n\n") >= 3
        assert not any(f.startswith("event:") for f in frames)

    async_to_sync(scenario)()


def test_anonymous_gets_401_without_a_stream(client):
    response = client.get(reverse("telemetria:live_events"))
    assert response.status_code == 401
    assert not response.streaming


def test_user_without_account_gets_403(client, django_user_model):
    user = django_user_model.objects.create_user(email="semconta@example.com", password="x" * 12)
    client.force_login(user)
    assert client.get(reverse("telemetria:live_events")).status_code == 403


@pytest.mark.parametrize("method", ["post", "delete"])
def test_only_get(client, admin_a, method):
    client.force_login(admin_a)
    assert getattr(client, method)(reverse("telemetria:live_events")).status_code in (403, 405)


def test_stream_ends_when_the_member_is_removed(
    admin_a, leitor_a, conta_a, settings, django_capture_on_commit_callbacks
):
    """Issue 12 item 9: before, a removed member kept receiving the account's live
    events until the stream's max age (300 s)."""
    from asgiref.sync import sync_to_async

    from contas import services as contas_services
    from contas.models import ContaMembership

    settings.TDS_SSE_HEARTBEAT_SECONDS = 30

    def remove_leitor():
        with django_capture_on_commit_callbacks(execute=True):
            contas_services.member_remove(
                membership=ContaMembership.objects.get(conta=conta_a, user=leitor_a)
            )

    async def scenario():
        removed = aiter((await _open(leitor_a)).streaming_content)
        staying = aiter((await _open(admin_a)).streaming_content)
        assert (await _next_frame(removed)).startswith("retry: ")
        assert (await _next_frame(staying)).startswith("retry: ")
        await sync_to_async(remove_leitor)()
        assert (await _next_frame(removed)).startswith("event: access_revoked\n")
        with pytest.raises(StopAsyncIteration):
            await _next_frame(removed)
        # The other member's stream goes on, and never sees the notice.
        publish_live_event(conta_id=conta_a.pk, event=_reading_event("1.0000"))
        assert (await _next_frame(staying)).startswith("event: readings\n")
        await staying.aclose()

    async_to_sync(scenario)()
