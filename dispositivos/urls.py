from django.urls import path

from . import views

app_name = "dispositivos"
urlpatterns = [
    path("gateways/", views.gateway_list, name="gateway_list"),
    path("gateways/novo/", views.gateway_create, name="gateway_create"),
    path("gateways/<int:pk>/", views.gateway_detail, name="gateway_detail"),
    path("gateways/<int:pk>/editar/", views.gateway_update, name="gateway_update"),
    path("gateways/<int:pk>/excluir/", views.gateway_delete, name="gateway_delete"),
    path("dispositivos/", views.dispositivo_list, name="dispositivo_list"),
    path("dispositivos/novo/", views.dispositivo_create, name="dispositivo_create"),
    path("dispositivos/<int:pk>/", views.dispositivo_detail, name="dispositivo_detail"),
    path("dispositivos/<int:pk>/editar/", views.dispositivo_update, name="dispositivo_update"),
    path("dispositivos/<int:pk>/excluir/", views.dispositivo_delete, name="dispositivo_delete"),
]
