"""A stored generation request with a prompt and a response, for the admin content tests."""

from django.apps import apps
from django.utils import timezone

PROMPT_MARKER = "PROMPT-CANARY-7f3a"
RESPONSE_MARKER = "RESPONSE-CANARY-19be"


def make_generation(dietitian):
    GenerationRequest = apps.get_model("llm", "GenerationRequest")
    return GenerationRequest.objects.create(
        tenant=dietitian.tenant,
        dietitian=dietitian,
        kind="diet_introduction",
        inputs={"goals": ["energy"]},
        status="succeeded",
        started_at=timezone.now(),
        finished_at=timezone.now(),
        prompt=f"Write a diet introduction. {PROMPT_MARKER}",
        response=f"Here is your introduction. {RESPONSE_MARKER}",
    )
