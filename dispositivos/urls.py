from django.urls import path

from . import views

app_name = "dispositivos"
urlpatterns = [
    path("gateways/", views.gateway_list, name="gateway_list"),
    path("dispositivos/", views.dispositivo_list, name="dispositivo_list"),
]
