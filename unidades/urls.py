from django.urls import path

from . import views

app_name = "unidades"
urlpatterns = [
    path("", views.unidade_list, name="unidade_list"),
    path("nova/", views.unidade_create, name="unidade_create"),
    path("importar/", views.unidade_import, name="unidade_import"),
    path("medidores/", views.medicao_list, name="medicao_list"),
    path("medidores/<int:dispositivo_pk>/", views.medicao_set, name="medicao_set"),
    path("<int:pk>/", views.unidade_detail, name="unidade_detail"),
    path("<int:pk>/editar/", views.unidade_update, name="unidade_update"),
    path("<int:pk>/excluir/", views.unidade_delete, name="unidade_delete"),
    path("<int:pk>/moradores/", views.morador_link, name="morador_link"),
    path("<int:pk>/moradores/<int:link_pk>/remover/", views.morador_unlink, name="morador_unlink"),
]
