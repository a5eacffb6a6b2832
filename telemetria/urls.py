from django.urls import path

from . import csv_export, sse, views
from .api import views as api

app_name = "telemetria"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("gateways/<int:pk>/", views.gateway, name="gateway"),
    path("leituras/", views.leituras, name="leituras"),
    path("eventos/", sse.live_events, name="live_events"),
    path("api/v1/resumo/", api.resumo, name="api_resumo"),
    path("api/v1/gateways/", api.gateways, name="api_gateways"),
    path("api/v1/gateways/<int:pk>/", api.gateway_detail, name="api_gateway"),
    path("api/v1/dispositivos/", api.dispositivos, name="api_dispositivos"),
    path("api/v1/dispositivos/<int:pk>/serie/", api.dispositivo_serie, name="api_serie"),
    path(
        "api/v1/dispositivos/<int:pk>/consumo-mensal/",
        api.dispositivo_consumo_mensal,
        name="api_dispositivo_consumo",
    ),
    path("api/v1/consumo-mensal/", api.consumo_mensal, name="api_consumo"),
    path("api/v1/leituras/ultimas/", api.ultimas_leituras, name="api_ultimas"),
    path(
        "exportar/dispositivos/<int:pk>.csv",
        csv_export.export_dispositivo,
        name="csv_dispositivo",
    ),
    path("exportar/gateways/<int:pk>.csv", csv_export.export_gateway, name="csv_gateway"),
]
