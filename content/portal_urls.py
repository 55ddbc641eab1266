"""Dietitian pages under /portal/ (the accounts pages add login, logout and /portal/manage/)."""

from django.urls import path

from content import portal_views

urlpatterns = [
    path("", portal_views.sample_list, name="portal-samples"),
    path("samples/new/", portal_views.sample_create, name="portal-sample-create"),
    path("samples/<uuid:sample_id>/", portal_views.sample_edit, name="portal-sample-edit"),
    path(
        "samples/<uuid:sample_id>/delete/",
        portal_views.sample_delete,
        name="portal-sample-delete",
    ),
]
