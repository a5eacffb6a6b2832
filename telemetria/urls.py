from django.urls import path

from . import sse, views

app_name = "telemetria"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("eventos/", sse.live_events, name="live_events"),
]
