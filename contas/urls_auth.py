"""Password change and reset pages (Django's views, our pt-BR templates). Login and
logout live at /entrar/ and /sair/ (prj_tds_new/urls.py); this module deliberately
does not define a second "login"/"logout" name."""

from django.contrib.auth import views as auth_views
from django.urls import path

from .throttle import ThrottledPasswordResetView

urlpatterns = [
    path("alterar/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("alterar/ok/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("recuperar/", ThrottledPasswordResetView.as_view(), name="password_reset"),
    path(
        "recuperar/enviado/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"
    ),
    path(
        "definir/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "definir/ok/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
