"""Admin for generation requests: what happened to each, the guard verdicts, and a retry
action for failed ones. Decrypted prompts and responses are shown only to users holding
`llm.view_generation_content` (Support, for one, does not)."""

import json

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from llm import services
from llm.models import GenerationRequest
from nutrition_pro.exceptions import ServiceError

CONTENT_PERMISSION = "llm.view_generation_content"

_BASE_FIELDS = (
    "id",
    "tenant",
    "api_key",
    "dietitian",
    "kind",
    "status",
    "attempts",
    "error_code",
    "error_message",
    "provider",
    "model",
    "prompt_version",
    "prompt_tokens",
    "completion_tokens",
    "latency_ms",
    "provider_charged",
    "verdicts",
    "inputs",
    "sample_ids",
    "idempotency_key",
    "created_at",
    "started_at",
    "finished_at",
    "content_purged_at",
)
_CONTENT_FIELDS = ("notes", "stored_prompt", "stored_response")


@admin.register(GenerationRequest)
class GenerationRequestAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "tenant",
        "dietitian",
        "kind",
        "status",
        "attempts",
        "error_code",
        "created_at",
    )
    list_filter = ("status", "kind", "provider", "error_code", "tenant")
    list_select_related = ("tenant", "dietitian")
    search_fields = ("=id", "=idempotency_key", "tenant__slug", "dietitian__external_ref")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    actions = ("retry_failed",)
    show_full_result_count = False

    def get_queryset(self, request):
        # Encrypted columns are loaded (and decrypted) only on the page that may show them.
        return super().get_queryset(request).defer("prompt", "response", "notes")

    def _may_see_content(self, request) -> bool:
        return request.user.has_perm(CONTENT_PERMISSION)

    def get_fields(self, request, obj=None):
        # The content columns' display methods are reachable only through this list.
        if self._may_see_content(request):
            return _BASE_FIELDS + _CONTENT_FIELDS
        return _BASE_FIELDS

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="guard verdicts")
    def verdicts(self, obj):
        if not obj.guard_verdicts:
            return "-"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><b>{}</b>: {} {} {}</li>",
                (
                    (
                        v.get("guard"),
                        v.get("outcome"),
                        v.get("reason", ""),
                        json.dumps(v.get("details") or {}),
                    )
                    for v in obj.guard_verdicts
                ),
            ),
        )

    @admin.display(description="prompt (redacted)")
    def stored_prompt(self, obj):
        text = GenerationRequest.objects.only("prompt").get(pk=obj.pk).prompt
        if text is None:
            return "(purged)" if obj.content_purged_at else "-"
        messages_ = json.loads(text)
        return format_html_join(
            "", "<p><b>{}</b></p><pre>{}</pre>", ((m["role"], m["content"]) for m in messages_)
        )

    @admin.display(description="response (redacted)")
    def stored_response(self, obj):
        text = GenerationRequest.objects.only("response").get(pk=obj.pk).response
        if text is None:
            return "(purged)" if obj.content_purged_at else "-"
        return format_html("<pre>{}</pre>", text)

    @admin.action(description="Retry the selected failed generations", permissions=["change"])
    def retry_failed(self, request, queryset):
        retried = skipped = 0
        for generation in queryset.filter(status=GenerationRequest.Status.FAILED):
            try:
                services.generation_retry(generation=generation)
                retried += 1
            except ServiceError as error:
                skipped += 1
                self.message_user(request, f"{generation.pk}: {error.message}", messages.WARNING)
        skipped += queryset.exclude(status=GenerationRequest.Status.FAILED).count()
        self.message_user(request, f"Queued {retried} again; skipped {skipped}.", messages.INFO)
