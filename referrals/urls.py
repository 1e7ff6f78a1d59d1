from django.urls import path

from . import views

app_name = "referrals"

urlpatterns = [
    path("", views.referral_list, name="list"),
    path("export.csv", views.referral_export, name="export"),
    path("overdue/", views.overdue_list, name="overdue"),
    path("linkage/", views.linkage, name="linkage"),
    path("new/", views.referral_create, name="create"),
    path("<int:pk>/", views.referral_detail, name="detail"),
    path("<int:pk>/status/", views.referral_change_status, name="change-status"),
    # The intake page loads this fragment into #referral-follow-ups (?code=<CODE>).
    path("follow-ups/", views.follow_ups, name="follow-ups"),
    path(
        "follow-ups/<int:pk>/<slug:answer>/",
        views.follow_up_answer,
        name="follow-up-answer",
    ),
    path("ask/", views.ask, name="ask"),
    path("partners/", views.partner_list, name="partner-list"),
    path("partners/new/", views.partner_edit, name="partner-create"),
    path("partners/<int:pk>/", views.partner_edit, name="partner-edit"),
    path("partners/options/", views.partner_options, name="partner-options"),
    path("types/", views.type_list, name="type-list"),
    path("types/new/", views.type_edit, name="type-create"),
    path("types/<int:pk>/", views.type_edit, name="type-edit"),
]
