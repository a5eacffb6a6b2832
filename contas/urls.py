from django.urls import path

from . import views

app_name = "contas"
urlpatterns = [
    path("trocar/", views.conta_switch, name="switch"),
    path("membros/", views.member_list, name="member_list"),
]
