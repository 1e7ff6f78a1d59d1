from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.report_list, name="list"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("<int:pk>/", views.report_detail, name="detail"),
    path("<int:pk>/progress/", views.report_progress, name="progress"),
    path("<int:pk>/print/", views.report_print, name="print"),
    path("<int:pk>/regenerate/", views.report_regenerate_view, name="regenerate"),
    path("<int:pk>/download/<str:fmt>/", views.report_download, name="download"),
]
