from django.urls import path

from . import views

app_name = "notificacoes"
urlpatterns = [
    path("", views.destino_list, name="destino_list"),
    path("destinos/novo/", views.destino_create, name="destino_create"),
    path("destinos/<int:pk>/", views.destino_detail, name="destino_detail"),
    path("destinos/<int:pk>/editar/", views.destino_edit, name="destino_edit"),
    path("destinos/<int:pk>/excluir/", views.destino_delete, name="destino_delete"),
    path("destinos/<int:pk>/testar/", views.destino_testar, name="destino_testar"),
    path(
        "destinos/<int:pk>/novo-segredo/", views.destino_novo_segredo, name="destino_novo_segredo"
    ),
    path("configuracao/", views.configuracao_edit, name="configuracao"),
    path("preferencias/", views.preferencias, name="preferencias"),
    path("alarmes/<int:alarme_id>/", views.entregas_alarme, name="entregas_alarme"),
]
