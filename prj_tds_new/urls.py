from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from alarmes.api import api as alarmes_api

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="telemetria:dashboard"), name="home"),
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
]
