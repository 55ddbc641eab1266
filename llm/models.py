"""Generation requests: one row per text asked for, from the API call to the stored answer."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from nutrition_pro.fields import EncryptedTextField
from tenants.models import ApiKey, Dietitian, Tenant


class GenerationKind(models.TextChoices):
    DIET_INTRODUCTION = "diet_introduction", "Diet introduction"
    MEAL_PLAN_SUMMARY = "meal_plan_summary", "Meal-plan summary"
    RECIPE_DESCRIPTION = "recipe_description", "Recipe description"


class GenerationRequest(models.Model):
    """A text asked for by a Meal Planner app, and everything that happened to it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        BLOCKED = "blocked", "Blocked"

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)
    FINAL_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.BLOCKED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="generations")
    api_key = models.ForeignKey(
        ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="generations"
    )
    dietitian = models.ForeignKey(Dietitian, on_delete=models.CASCADE, related_name="generations")
    kind = models.CharField(max_length=30, choices=GenerationKind.choices)
    inputs = models.JSONField(default=dict, help_text="Validated structured inputs (no notes).")
    notes = EncryptedTextField(
        null=True, blank=True, help_text="Free-text notes; redacted once the request ends."
    )
    requested_sample_ids = models.JSONField(default=list, blank=True)
    sample_ids = models.JSONField(default=list, blank=True, help_text="Samples the prompt used.")
    idempotency_key = models.CharField(max_length=255, blank=True, default="")
    request_fingerprint = models.CharField(max_length=64, blank=True, default="")

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    attempts = models.PositiveIntegerField(default=0)
    lease_token = models.CharField(max_length=32, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=60, blank=True, default="")
    error_message = models.CharField(max_length=500, blank=True, default="")

    provider = models.CharField(max_length=20, blank=True, default="")
    model = models.CharField(max_length=100, blank=True, default="")
    prompt_version = models.CharField(max_length=20, blank=True, default="")
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    provider_charged = models.BooleanField(
        default=False, help_text="A provider call was answered, so its usage was settled."
    )

    prompt = EncryptedTextField(null=True, blank=True, help_text="Redacted, then encrypted.")
    response = EncryptedTextField(null=True, blank=True, help_text="Redacted, then encrypted.")
    guard_verdicts = models.JSONField(default=list, blank=True)
    content_purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        permissions = [
            ("view_generation_content", "Can view decrypted prompts and responses"),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="generation_tenant_recent"),
            models.Index(fields=["tenant", "status"], name="generation_tenant_status"),
            models.Index(fields=["status", "created_at"], name="generation_status_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="generation_idempotency_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "succeeded", "failed", "blocked"]),
                name="generation_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[choice.value for choice in GenerationKind]),
                name="generation_kind_valid",
            ),
            # A finished request says when it finished; a succeeded one has its text.
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running"]) | Q(finished_at__isnull=False),
                name="generation_finished_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINAL_STATUSES

    @property
    def is_offline(self) -> bool:
        return self.provider == "offline"

    @property
    def can_retry(self) -> bool:
        return self.status == self.Status.FAILED

    def lease_is_held(self, at=None) -> bool:
        """Running under another worker's live lease (a re-delivered task must wait)."""
        at = at or timezone.now()
        return (
            self.status == self.Status.RUNNING
            and self.lease_expires_at is not None
            and self.lease_expires_at > at
        )

    def blocking_verdict(self) -> dict | None:
        return next((v for v in self.guard_verdicts if v.get("outcome") == "blocked"), None)
