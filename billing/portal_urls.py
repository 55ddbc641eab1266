"""The manager's billing pages under /portal/manage/ (namespace "manage_billing")."""

from django.urls import path

from billing import portal

app_name = "manage_billing"

urlpatterns = [
    path("usage/", portal.usage, name="usage"),
    path("invoices/", portal.invoice_list, name="invoice_list"),
    path("invoices/<uuid:invoice_id>/", portal.invoice_detail, name="invoice_detail"),
]
