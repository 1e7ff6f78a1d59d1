from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from org import views as org_views

api_v1 = [
    path("", include("org.api_urls")),
    path("", include("ssp.api_urls")),
    path("inventory/", include("inventory.api_urls")),
    path("events/", include("events.api_urls")),
    path("referrals/", include("referrals.api_urls")),
    path("reports/", include("reports.api_urls")),
]

urlpatterns = [
    path("", org_views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", org_views.healthz, name="healthz"),
    path("", include("org.urls")),
    path("", include("ssp.urls")),
    path("inventory/", include("inventory.urls")),
    path("events/", include("events.urls")),
    path("referrals/", include("referrals.urls")),
    path("reports/", include("reports.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script from a URL: the CSP forbids inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]

handler500 = "org.error_views.server_error"
