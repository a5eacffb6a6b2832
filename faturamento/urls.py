from django.urls import path

from . import views

app_name = "faturamento"
urlpatterns = [
    path("", views.index, name="index"),
    path("balanco/", views.balanco, name="balanco"),
    path("periodos/<int:pk>/", views.periodo_detail, name="periodo_detail"),
    path("periodos/<int:pk>/contas/nova/", views.fatura_form, name="fatura_create"),
    path("periodos/<int:pk>/contas/<int:fatura_pk>/", views.fatura_form, name="fatura_update"),
    path(
        "periodos/<int:pk>/contas/<int:fatura_pk>/excluir/",
        views.fatura_excluir,
        name="fatura_excluir",
    ),
    path("periodos/<int:pk>/fechar/", views.periodo_fechar, name="periodo_fechar"),
    path("periodos/<int:pk>/corrigir/", views.periodo_corrigir, name="periodo_corrigir"),
    path("periodos/<int:pk>/rateio.xlsx", views.planilha_xlsx, name="planilha_xlsx"),
    path(
        "periodos/<int:pk>/unidades/<int:unidade_pk>/demonstrativo.pdf",
        views.demonstrativo_pdf,
        name="demonstrativo_pdf",
    ),
    path("periodos/<int:pk>/demonstrativos/", views.geracao_iniciar, name="geracao_iniciar"),
    path("geracoes/<int:pk>/", views.geracao_status, name="geracao_status"),
    path("geracoes/<int:pk>/demonstrativos.zip", views.geracao_download, name="geracao_download"),
    path("minha-unidade/", views.minha_unidade, name="minha_unidade"),
    path(
        "minha-unidade/demonstrativos/<int:pk>.pdf",
        views.minha_demonstrativo_pdf,
        name="minha_demonstrativo_pdf",
    ),
]
