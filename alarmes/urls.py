from django.urls import path

from . import views

app_name = "alarmes"

urlpatterns = [
    path("", views.alarme_list, name="list"),
    path("resumo/", views.alarme_resumo, name="resumo"),
    path("<int:pk>/", views.alarme_detail, name="detail"),
    path("<int:pk>/reconhecer/", views.alarme_ack, name="ack"),
    path("<int:pk>/encerrar/", views.alarme_clear, name="clear"),
    path("<int:pk>/comentar/", views.alarme_comment, name="comment"),
    path("regras/", views.regra_list, name="regra_list"),
    path("regras/nova/", views.regra_create, name="regra_create"),
    path("regras/<int:pk>/editar/", views.regra_update, name="regra_update"),
    path("regras/<int:pk>/alternar/", views.regra_toggle, name="regra_toggle"),
    path("regras/<int:pk>/excluir/", views.regra_delete, name="regra_delete"),
]
