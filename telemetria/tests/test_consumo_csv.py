"""Monthly consumption semantics, and the streamed CSV export."""

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone

from tds_testing import factories
from tds_testing.readings import store_points as store
from telemetria.selectors import _last_months

SP = ZoneInfo("America/Sao_Paulo")


def _month_start(d):
    return dt.datetime(d.year, d.month, 1, tzinfo=SP)


def test_monthly_consumption_meter_semantics(client, admin_a, conta_a):
    gw = factories.make_gateway(conta=conta_a)
    acumulado = factories.make_dispositivo(gateway=gw, codigo="D01", tipo="AGUA")
    intervalo = factories.make_dispositivo(
        gateway=gw, codigo="D02", tipo="ENERGIA", tipo_medidor="INTERVALO"
    )
    temp = factories.make_dispositivo(gateway=gw, codigo="D03", tipo="TEMP")
    months = _last_months(3, timezone.now())
    m0, m1, m2 = (_month_start(m) for m in months)
    h = dt.timedelta(hours=1)
    # Register: 100 → 110 in m0; 110 → 130, then reset to 0 and up to 5 in m1; 5 → 8 in m2.
    store(
        acumulado,
        [
            (m0 + h, 100),
            (m0 + 2 * h, 110),
            (m1 + h, 130),
            (m1 + 2 * h, 0),
            (m1 + 3 * h, 5),
            (m2 + h, 8),
        ],
    )
    store(intervalo, [(m1 + h, 2), (m1 + 2 * h, 3), (m2 + h, 4)])
    store(temp, [(m2 + h, 21)])
    client.force_login(admin_a)
    data = client.get(reverse("telemetria:api_consumo"), {"meses": 3}).json()
    assert data["meses"] == [m.strftime("%Y-%m") for m in months]
    by_code = {d["codigo"]: d for d in data["dispositivos"]}
    assert by_code["D01"]["consumo"] == ["10.0000", "25.0000", "3.0000"]  # 20 + 0 + 5 in m1
    assert by_code["D01"]["unidade"] == "m³"
    assert by_code["D02"]["consumo"] == [None, "5.0000", "4.0000"]
    assert by_code["D03"]["consumo"] == [None, None, None]
    one = client.get(
        reverse("telemetria:api_dispositivo_consumo", args=[acumulado.pk]), {"meses": 3}
    )
    assert [d["codigo"] for d in one.json()["dispositivos"]] == ["D01"]
    assert client.get(reverse("telemetria:api_consumo"), {"meses": 99}).json()["campo"] == "meses"


def _csv(response):
    return b"".join(response.streaming_content)


def test_csv_default_format(client, admin_a, planta_a):
    client.force_login(admin_a)
    url = reverse("telemetria:csv_dispositivo", args=[planta_a["energia"].pk])
    response = client.get(url, {"periodo": "24h"})
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(_csv(response).decode())))
    assert rows[0] == ["horario", "gateway", "dispositivo", "valor", "unidade"]
    assert len(rows) == 1 + 121
    assert rows[-1][1:] == ["GW-A1", "D01", "1060.0000", "kWh"]
    assert rows[-1][0].endswith("Z")


def test_csv_br_format_for_excel(client, admin_a, planta_a):
    client.force_login(admin_a)
    url = reverse("telemetria:csv_gateway", args=[planta_a["gateway"].pk])
    body = _csv(client.get(url, {"periodo": "24h", "formato": "br"}))
    assert body.startswith("\ufeff".encode())
    text = body.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(rows) == 1 + 2 * 121
    last_energy = [r for r in rows if r[2] == "D01"][-1]
    assert last_energy[3] == "1060,0000"
    local = planta_a["now"].astimezone(SP).strftime("%d/%m/%Y %H:%M:%S")
    assert last_energy[0] == local
    assert any(r[4] == "°C" for r in rows[1:])


def test_csv_bad_format_names_the_field(client, admin_a, planta_a):
    client.force_login(admin_a)
    url = reverse("telemetria:csv_dispositivo", args=[planta_a["energia"].pk])
    response = client.get(url, {"formato": "xls"})
    assert response.status_code == 400
    assert response.json()["campo"] == "formato"


def test_csv_streams_in_chunks(client, admin_a, planta_a, monkeypatch):
    from telemetria import csv_export

    monkeypatch.setattr(csv_export, "ROWS_PER_CHUNK", 10)
    client.force_login(admin_a)
    url = reverse("telemetria:csv_dispositivo", args=[planta_a["energia"].pk])
    chunks = list(client.get(url, {"periodo": "24h"}).streaming_content)
    assert len(chunks) >= 12  # 121 rows, 10 a chunk: not one big body


def test_csv_neutralises_cells_a_spreadsheet_would_run_as_formulas(client, admin_a, conta_a):
    """Issue 12 item 9 (OWASP CSV injection): codes come from users, units from gateways'
    payloads; a cell starting with = + - @, a tab or a CR must not become a formula."""
    from tds_testing.readings import row
    from telemetria.storage import insert_readings

    gw = factories.make_gateway(conta=conta_a, codigo='=HYPERLINK("http://x")')
    d = factories.make_dispositivo(gateway=gw, codigo="@SUM(A1)")
    now = timezone.now().replace(microsecond=0)
    units = ["=cmd|'/C calc'", "+1", "-2", "\tx", "\rx", "kWh"]
    insert_readings(
        [
            row(d, now - dt.timedelta(minutes=i), -1.5)._replace(unidade=u)
            for i, u in enumerate(units)
        ]
    )
    client.force_login(admin_a)
    for formato, delimiter in (("padrao", ","), ("br", ";")):
        body = _csv(
            client.get(
                reverse("telemetria:csv_dispositivo", args=[d.pk]),
                {"periodo": "24h", "formato": formato},
            )
        )
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=delimiter))[1:]
        assert {r[1] for r in rows} == {'\'=HYPERLINK("http://x")'}
        assert {r[2] for r in rows} == {"'@SUM(A1)"}
        assert sorted(r[4] for r in rows) == sorted(
            ["'=cmd|'/C calc'", "'+1", "'-2", "'\tx", "'\rx", "kWh"]
        )
        assert {r[3] for r in rows} == {"-1.5000" if formato == "padrao" else "-1,5000"}
