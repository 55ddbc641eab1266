from django.urls import path

from content import apis

urlpatterns = [
    path("dietitians/", apis.DietitianListApi.as_view(), name="api-dietitians"),
    path(
        "dietitians/<uuid:dietitian_id>/",
        apis.DietitianDetailApi.as_view(),
        name="api-dietitian",
    ),
    path("samples/", apis.SampleListApi.as_view(), name="api-samples"),
    path("samples/<uuid:sample_id>/", apis.SampleDetailApi.as_view(), name="api-sample"),
    path("storeContent", apis.StoreContentApi.as_view(), name="api-store-content"),
]
