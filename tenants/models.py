"""Tenants (Meal Planner applications), their plans' limits, API keys and people."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Scope(models.TextChoices):
    SAMPLES_READ = "samples:read", "Read samples and dietitians"
    SAMPLES_WRITE = "samples:write", "Write samples and dietitians"
    GENERATIONS_CREATE = "generations:create", "Request generations"
    GENERATIONS_READ = "generations:read", "Read generations"
    USAGE_READ = "usage:read", "Read usage and invoices"


ALL_SCOPES = [choice.value for choice in Scope]


class Plan(models.Model):
    """A commercial plan: its fee and the limits it gives a new tenant."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    monthly_fee = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    included_tokens = models.PositiveBigIntegerField(default=0)
    overage_price_per_million = models.DecimalField(
        max_digits=12, decimal_places=4, default=Decimal("0")
    )
    requests_per_minute = models.PositiveIntegerField(default=60)
    monthly_token_quota = models.PositiveBigIntegerField(default=1_000_000)
    monthly_cost_cap = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("50"))
    max_queued_generations = models.PositiveIntegerField(default=10)
    log_retention_days = models.PositiveIntegerField(default=30)
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name


class Tenant(models.Model):
    """A Meal Planner application: the unit of isolation, limits and billing."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, null=True, blank=True)
    requests_per_minute = models.PositiveIntegerField(default=60)
    monthly_token_quota = models.PositiveBigIntegerField(default=1_000_000)
    monthly_cost_cap = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("50"))
    max_queued_generations = models.PositiveIntegerField(default=10)
    log_retention_days = models.PositiveIntegerField(default=30)
    auto_suspend_keys_on_anomaly = models.BooleanField(
        default=False, help_text="Suspend a key automatically when an anomaly alert fires."
    )
    redact_before_provider = models.BooleanField(
        default=False, help_text="Redact personal data before text is sent to the LLM provider."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(requests_per_minute__gte=1), name="tenant_rpm_positive"
            ),
            models.CheckConstraint(
                condition=Q(log_retention_days__gte=1), name="tenant_retention_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class ApiKey(models.Model):
    """An application's API key; only a keyed hash of its secret is stored."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(
        null=True, blank=True, help_text="Set by anomaly detection; clear it to resume the key."
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True, editable=False)
    replaces = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replaced_by"
    )
    requests_per_minute = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="A lower limit for this key alone; empty means the tenant's limit. "
        "The tenant's limit always applies to all of its keys together.",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"
        constraints = [
            models.CheckConstraint(
                condition=Q(requests_per_minute__isnull=True) | Q(requests_per_minute__gte=1),
                name="apikey_rpm_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (np_{self.prefix}_…)"

    def is_usable(self, at=None) -> bool:
        """Not revoked, not suspended, not expired (a rotated key lives until its grace ends)."""
        at = at or timezone.now()
        if self.revoked_at is not None or self.suspended_at is not None:
            return False
        return self.expires_at is None or self.expires_at > at

    @property
    def status(self) -> str:
        """active, expired, revoked or suspended: what the admin and the portal show."""
        if self.revoked_at is not None:
            return "revoked"
        if self.suspended_at is not None:
            return "suspended"
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        return "active"

    @property
    def effective_requests_per_minute(self) -> int:
        """This key's own limit: its override if lower, else the tenant's."""
        tenant_limit = self.tenant.requests_per_minute
        if self.requests_per_minute is None:
            return tenant_limit
        return min(self.requests_per_minute, tenant_limit)


class Dietitian(models.Model):
    """A dietitian of one tenant, whose samples teach the service their style."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="dietitians")
    external_ref = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    ai_consent = models.BooleanField(default=False)
    ai_consent_changed_at = models.DateTimeField(null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="dietitian",
        help_text="Portal account of this dietitian, if they sign in themselves.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_ref"], name="dietitian_external_ref_unique"
            ),
            # Lets content rows pin their dietitian to their own tenant with a composite FK.
            models.UniqueConstraint(fields=["tenant", "id"], name="dietitian_tenant_id_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class TenantMembership(models.Model):
    """A portal user who manages one tenant (a Meal Planner application manager)."""

    class Role(models.TextChoices):
        MANAGER = "manager", "Application manager"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tenant_membership"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MANAGER)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant}"


class KeyAnomalyAlert(models.Model):
    """A key used unlike its own history: a volume spike or a new source network."""

    class Kind(models.TextChoices):
        VOLUME_SPIKE = "volume_spike", "Volume spike"
        NEW_NETWORK = "new_network", "New source network"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="key_alerts")
    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    network = models.CharField(
        max_length=64, blank=True, help_text="The new source network (/24 IPv4, /48 IPv6)."
    )
    details = models.JSONField(default=dict, blank=True)
    key_suspended = models.BooleanField(
        default=False, help_text="The key was suspended automatically (tenant setting)."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "key anomaly alert"
        constraints = [
            # One alert per key and new network, however often the detector runs.
            models.UniqueConstraint(
                fields=["api_key", "network"],
                condition=Q(kind="new_network"),
                name="keyalert_one_per_new_network",
            ),
            models.CheckConstraint(
                condition=~Q(kind="new_network") | ~Q(network=""),
                name="keyalert_new_network_named",
            ),
        ]
        indexes = [models.Index(fields=["api_key", "kind", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.api_key}"
