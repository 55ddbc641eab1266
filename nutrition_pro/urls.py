"""Composes each app's API, admin and portal routes."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from nutrition_pro import errors, health
from tenants.admin_onboarding import onboard_tenant_view

api_v1 = [
    path("", include("tenants.urls")),
    path("", include("content.urls")),
    path("", include("llm.urls")),
    path("", include("billing.urls")),
]

# control plane (issue 7): the onboarding page joins the admin, behind its MFA and reauth checks
admin.site.register_view("onboarding/", onboard_tenant_view, "onboard_tenant")

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    # Anything else under /api/ is a JSON 404, never an HTML page or a slash redirect.
    re_path(r"^api/", errors.api_not_found),
    # --- control plane (issue 7): sign-in, the manager's pages, admin onboarding ---
    path("portal/", include("nutrition_pro.signin_urls")),
    path("portal/manage/", include("tenants.portal_urls")),
    path("portal/manage/", include("billing.portal_urls")),
    path("admin/", admin.site.urls),
    # content: the dietitian portal pages (the accounts pages add their own /portal/ routes)
    path("portal/", include("content.portal_urls")),
]

handler404 = errors.not_found
handler500 = errors.server_error
