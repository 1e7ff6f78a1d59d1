from django.urls import path

from . import views

app_name = "ssp"

urlpatterns = [
    path("intake/", views.intake, name="intake"),
    path("intake/lookup/", views.intake_lookup, name="intake-lookup"),
    path("intake/build-code/", views.intake_build_code, name="intake-build-code"),
    path("intake/shift/", views.intake_shift, name="intake-shift"),
    path("intake/visits/", views.visit_list, name="visit-list"),
    path("intake/visits/<uuid:uuid>/", views.visit_detail, name="visit-detail"),
    path("intake/visits/<uuid:uuid>/edit/", views.visit_edit, name="visit-edit"),
    path("intake/visits/<uuid:uuid>/void/", views.visit_void, name="visit-void"),
    path("intake/participants/", views.participant_search, name="participant-search"),
    path("intake/participants/merge/", views.participant_merge, name="participant-merge"),
    path("intake/participants/<str:code>/", views.participant_detail, name="participant-detail"),
]
