from django.urls import path

from . import views

app_name = "alarmes"

urlpatterns = [
    path("", views.alarme_list, name="list"),
    path("<int:pk>/", views.alarme_detail, name="detail"),
]
