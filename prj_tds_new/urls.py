from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.urls import include, path

from alarmes.api import api as alarmes_api
from contas.models import Role


def home(request):
    """The dashboard; a resident (morador) lands on their own unit's page instead."""
    membership = getattr(request, "membership", None)
    if membership is not None and membership.role == Role.MORADOR:
        return redirect("faturamento:minha_unidade")
    return redirect("telemetria:dashboard")


urlpatterns = [
    path("", home, name="home"),
    path(settings.ADMIN_URL, admin.site.urls),
    path("conta/", include("contas.urls")),
    path("entrar/", auth_views.LoginView.as_view(), name="login"),
    path("sair/", auth_views.LogoutView.as_view(), name="logout"),
    path("senha/", include("contas.urls_auth")),
    path("registro/", include("dispositivos.urls")),
    path("telemetria/", include("telemetria.urls")),
    path("ingestao/", include("ingestao.urls")),
    path("certificados/", include("certificados.urls")),
    path("tokens-api/", include("apitokens.urls")),
    # The alarm API lives at the project level: django-ninja reverses its own namespace.
    path("alarmes/api/v1/", alarmes_api.urls),
    path("alarmes/", include("alarmes.urls")),
    path("unidades/", include("unidades.urls")),
    path("faturamento/", include("faturamento.urls")),
    path("notificacoes/", include("notificacoes.urls")),
]
