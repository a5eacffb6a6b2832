app_name = "notificacoes"
urlpatterns: list = []
