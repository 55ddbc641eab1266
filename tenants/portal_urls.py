"""The manager's pages under /portal/manage/ (namespace "manage")."""

from django.urls import path

from tenants import portal

app_name = "manage"

urlpatterns = [
    path("", portal.dashboard, name="dashboard"),
    path("dietitians/", portal.dietitian_list, name="dietitian_list"),
    path("dietitians/<uuid:dietitian_id>/", portal.dietitian_detail, name="dietitian_detail"),
    path("keys/", portal.key_list, name="key_list"),
    path("keys/new/", portal.key_issue, name="key_issue"),
    path("keys/<int:key_id>/", portal.key_detail, name="key_detail"),
    path("keys/<int:key_id>/rotate/", portal.key_rotate, name="key_rotate"),
    path("keys/<int:key_id>/revoke/", portal.key_revoke, name="key_revoke"),
]
