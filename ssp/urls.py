from django.urls import path

from . import survey_views, views

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
    # The periodic anonymous survey (ssp/survey_views.py).
    path("intake/surveys/", survey_views.survey_list, name="survey-list"),
    path("intake/surveys/new/", survey_views.survey_edit, name="survey-create"),
    path("intake/surveys/<int:pk>/", survey_views.survey_edit, name="survey-edit"),
    path("intake/surveys/due/", survey_views.survey_due, name="survey-due"),
    path("intake/visits/<uuid:uuid>/survey/", survey_views.visit_survey_offer, name="survey-offer"),
    path("intake/surveys/answer/<uuid:uuid>/", survey_views.survey_answer, name="survey-answer"),
]
