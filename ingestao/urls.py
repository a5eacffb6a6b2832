from django.urls import path

from . import views

app_name = "ingestao"
urlpatterns = [
    path("", views.rejeitadas, name="rejeitadas"),
    path("<int:pk>/", views.rejeitada_detail, name="rejeitada_detail"),
]
