from django.urls import path

from . import views

app_name = "certificados"
urlpatterns = [
    path("", views.index, name="index"),
]
