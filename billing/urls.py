from django.urls import path

from billing import apis

urlpatterns = [
    path("usage/", apis.UsageApi.as_view(), name="api-usage"),
    path("invoices/", apis.InvoiceListApi.as_view(), name="api-invoices"),
    path("invoices/<uuid:invoice_id>/", apis.InvoiceDetailApi.as_view(), name="api-invoice"),
]
