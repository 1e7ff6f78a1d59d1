from django.urls import path

from . import views

app_name = "inventory"

urlpatterns: list = [
    path("", views.stock_list, name="stock"),
    path("stock.csv", views.stock_csv, name="stock-csv"),
    path("items/<int:pk>/", views.item_detail, name="item"),
    path("card/", views.stock_card, name="card"),
    path("receive/", views.receive, name="receive"),
    path("transfer/", views.transfer, name="transfer"),
    path("adjust/", views.adjust, name="adjust"),
    path("count/", views.count, name="count"),
    path("alerts/", views.alert_list, name="alerts"),
    path(
        "alerts/<int:pk>/acknowledge/",
        views.alert_acknowledge_view,
        name="alert-acknowledge",
    ),
]
