from django.urls import path

from . import views

app_name = "events"

urlpatterns = [
    path("", views.event_list, name="list"),
    path("new/<slug:kind>/", views.event_create, name="create"),
    path("<uuid:uuid>/", views.event_detail, name="detail"),
    path("<uuid:uuid>/void/", views.event_void, name="void"),
]
