"""Content samples: dietitians' own texts that teach the service their style."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from nutrition_pro.fields import EncryptedTextField
from tenants.models import Dietitian, Tenant


class SampleKind(models.TextChoices):
    DIET_INTRODUCTION = "diet_introduction", "Diet introduction"
    MEAL_PLAN_SUMMARY = "meal_plan_summary", "Meal-plan summary"
    RECIPE_DESCRIPTION = "recipe_description", "Recipe description"
    OTHER = "other", "Other"


class ContentSample(models.Model):
    """One text a dietitian wrote, screened for injection before any prompt may use it."""

    class Status(models.TextChoices):
        APPROVED = "approved", "Approved"
        QUARANTINED = "quarantined", "Quarantined"
        REJECTED = "rejected", "Rejected"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="samples")
    dietitian = models.ForeignKey(Dietitian, on_delete=models.CASCADE, related_name="samples")
    batch_id = models.UUIDField(
        null=True, blank=True, db_index=True, help_text="The samples-uuid of a storeContent call."
    )
    kind = models.CharField(max_length=30, choices=SampleKind.choices, default=SampleKind.OTHER)
    title = models.CharField(max_length=200, blank=True)
    body = EncryptedTextField()
    language = models.CharField(max_length=10, default="en")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUARANTINED)
    screen_score = models.FloatField(default=0.0)
    screen_reasons = models.JSONField(default=list, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(fields=["tenant", "dietitian", "status", "-created_at"]),
        ]
        # The sample's dietitian belongs to the sample's tenant: a composite foreign key
        # (tenant_id, dietitian_id) -> tenants_dietitian(tenant_id, id) added on PostgreSQL
        # by migration 0002, since Django's ForeignKey cannot express it.
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["approved", "quarantined", "rejected"]),
                name="sample_status_known",
            ),
            models.CheckConstraint(
                condition=Q(screen_score__gte=0) & Q(screen_score__lte=1),
                name="sample_screen_score_unit_range",
            ),
            models.CheckConstraint(
                condition=Q(reviewed_by__isnull=True) | Q(reviewed_at__isnull=False),
                name="sample_review_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"Sample {self.pk}"

    @property
    def is_usable_in_prompt(self) -> bool:
        return self.status == self.Status.APPROVED
