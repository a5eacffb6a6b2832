from django.urls import path

from . import views

app_name = "contas"
urlpatterns = [
    path("trocar/", views.conta_switch, name="switch"),
    path("convites/", views.convites, name="convites"),
    path("convites/<int:pk>/", views.convite_responder, name="convite_responder"),
    path("precos/", views.conta_prices, name="prices"),
    path("membros/", views.member_list, name="member_list"),
    path("membros/novo/", views.member_add, name="member_add"),
    path("membros/<int:pk>/editar/", views.member_update, name="member_update"),
    path("membros/<int:pk>/remover/", views.member_remove, name="member_remove"),
    path(
        "membros/<int:pk>/reenviar-convite/",
        views.member_resend_invite,
        name="member_resend_invite",
    ),
]
