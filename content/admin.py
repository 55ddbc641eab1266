"""Staff review of content samples. Bodies never appear in lists; every write goes through
the services, so the admin screens text like the API and the portal do."""

from django import forms
from django.contrib import admin, messages

from content import services, validation
from content.models import ContentSample
from nutrition_pro.exceptions import InvalidInput

TEXT_FIELDS = ("kind", "title", "body", "language")


class ContentSampleForm(forms.ModelForm):
    class Meta:
        model = ContentSample
        fields = ["tenant", "dietitian", *TEXT_FIELDS]
        widgets = {"body": forms.Textarea(attrs={"rows": 20, "cols": 100})}

    def clean(self):
        cleaned = super().clean()
        rules = {
            "kind": validation.clean_kind,
            "title": validation.clean_title,
            "body": validation.clean_body,
            "language": validation.clean_language,
        }
        for field, rule in rules.items():
            if field in cleaned:
                try:
                    cleaned[field] = rule(cleaned[field])
                except InvalidInput as error:
                    for message in error.details.get(field, [error.message]):
                        self.add_error(field, message)
        tenant, dietitian = cleaned.get("tenant"), cleaned.get("dietitian")
        if tenant and dietitian and dietitian.tenant_id != tenant.pk:
            self.add_error("dietitian", "This dietitian belongs to another tenant.")
        return cleaned


@admin.register(ContentSample)
class ContentSampleAdmin(admin.ModelAdmin):
    form = ContentSampleForm
    list_display = [
        "__str__",
        "tenant",
        "dietitian",
        "kind",
        "language",
        "status",
        "screen_score",
        "reasons",
        "reviewed_by",
        "created_at",
    ]
    list_filter = ["status", "kind", "tenant"]
    list_select_related = ["tenant", "dietitian", "reviewed_by"]
    search_fields = ["title", "dietitian__name", "dietitian__external_ref"]
    readonly_fields = [
        "status",
        "screen_score",
        "screen_reasons",
        "reviewed_by",
        "reviewed_at",
        "batch_id",
        "created_at",
        "updated_at",
    ]
    actions = ["approve_samples", "reject_samples"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        # Lists never show (nor decrypt) bodies; the change page loads its one body.
        return super().get_queryset(request).defer("body")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "tenant", "dietitian"] if obj else fields

    @admin.display(description="screen reasons")
    def reasons(self, sample) -> str:
        return ", ".join(sample.screen_reasons or []) or "-"

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in TEXT_FIELDS}
        if change:
            sample = services.sample_update(sample=ContentSample.objects.get(pk=obj.pk), **fields)
        else:
            sample = services.sample_create(
                tenant=form.cleaned_data["tenant"],
                dietitian=form.cleaned_data["dietitian"],
                **fields,
            )
        obj.__dict__.update(
            {k: v for k, v in sample.__dict__.items() if not k.startswith("_state")}
        )
        obj._state.adding = False
        if sample.status != ContentSample.Status.APPROVED:
            self.message_user(
                request,
                f"The screen flagged this sample ({', '.join(sample.screen_reasons)}); "
                "it stays quarantined until approved.",
                messages.WARNING,
            )

    @admin.action(description="Approve selected samples (usable in prompts)")
    def approve_samples(self, request, queryset):
        for sample in queryset:
            services.sample_approve(sample=sample, reviewer=request.user)
        self.message_user(request, f"Approved {queryset.count()} sample(s).", messages.SUCCESS)

    @admin.action(description="Reject selected samples (never used)")
    def reject_samples(self, request, queryset):
        for sample in queryset:
            services.sample_reject(sample=sample, reviewer=request.user)
        self.message_user(request, f"Rejected {queryset.count()} sample(s).", messages.SUCCESS)
