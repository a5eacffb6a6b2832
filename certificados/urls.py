from django.urls import path

from . import views

app_name = "certificados"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/emitido/", views.issued, name="issued"),
    path("<int:pk>/download/", views.download, name="download"),
    path("<int:pk>/revogar/", views.revoke, name="revoke"),
    path("gateway/<int:gateway_pk>/emitir/", views.issue, name="issue"),
]
