from django.urls import path

from llm import apis

urlpatterns = [
    path("generations/", apis.GenerationListCreateApi.as_view(), name="api-generations"),
    path(
        "generations/<uuid:generation_id>/",
        apis.GenerationDetailApi.as_view(),
        name="api-generation-detail",
    ),
]
