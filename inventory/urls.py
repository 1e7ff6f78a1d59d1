from django.urls import path

from . import alert_views

app_name = "inventory"

urlpatterns: list = [
    path("alerts/", alert_views.alert_list, name="alerts"),
    path(
        "alerts/<int:pk>/acknowledge/",
        alert_views.alert_acknowledge_view,
        name="alert-acknowledge",
    ),
]
