from django.urls import path

from . import views

app_name = "telemetria"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
