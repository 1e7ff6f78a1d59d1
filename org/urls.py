from django.urls import path

from . import views

app_name = "org"

urlpatterns = [
    path("sw.js", views.service_worker, name="service-worker"),
    path("manifest.webmanifest", views.web_manifest, name="web-manifest"),
    path("sites/", views.site_list, name="site-list"),
    path("sites/<int:pk>/", views.site_detail, name="site-detail"),
    path("audit/", views.audit_list, name="audit-list"),
    path("audit.csv", views.audit_csv, name="audit-csv"),
    path("account/", views.account, name="account"),
    path("account/language/", views.account_language, name="account-language"),
    path("help/", views.help_page, name="help"),
    path("account/password/", views.AccountPasswordChangeView.as_view(), name="password-change"),
    path("account/token/new/", views.account_token_create, name="token-create"),
    path("account/token/revoke/", views.account_token_revoke, name="token-revoke"),
    path("staff/", views.staff_list, name="staff-list"),
    path("staff/<int:pk>/reset-password/", views.staff_password_reset, name="staff-reset"),
    path("staff/<int:pk>/revoke-token/", views.staff_token_revoke, name="staff-token-revoke"),
    path("staff/<int:pk>/deactivate/", views.staff_deactivate_view, name="staff-deactivate"),
]
