"""Writes for dietitians and content samples. The API, storeContent, the portal, the admin and
the commands all call these, so every sample is validated and screened the same way."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from content import validation
from content.models import ContentSample, SampleKind
from content.screening import ScreenVerdict, screen_text
from nutrition_pro.exceptions import InvalidInput
from tenants.models import Dietitian, Tenant

# --- dietitians -------------------------------------------------------------------------


def _clean_dietitian_fields(*, external_ref, name) -> dict:
    fields = {}
    if external_ref is not None:
        fields["external_ref"] = validation.clean_text(
            external_ref, field="external_ref", max_chars=100, required=True
        )
    if name is not None:
        fields["name"] = validation.clean_text(name, field="name", max_chars=200, required=True)
    return fields


def _save_dietitian(dietitian: Dietitian) -> Dietitian:
    try:
        with transaction.atomic():
            dietitian.save()
    except IntegrityError as exc:
        if "external_ref" not in str(exc):  # PostgreSQL names the constraint, SQLite the column
            raise
        raise InvalidInput(
            "A dietitian with this external_ref exists.",
            details={"external_ref": ["Already used by another dietitian of this tenant."]},
        ) from None
    return dietitian


def dietitian_create(
    *, tenant: Tenant, external_ref: str, name: str, ai_consent: bool = False, user=None
) -> Dietitian:
    """A dietitian of the tenant; giving consent records when it was given."""
    fields = _clean_dietitian_fields(external_ref=external_ref, name=name)
    dietitian = Dietitian(
        tenant=tenant,
        ai_consent=bool(ai_consent),
        ai_consent_changed_at=timezone.now() if ai_consent else None,
        user=user,
        **fields,
    )
    return _save_dietitian(dietitian)


def dietitian_update(
    *,
    dietitian: Dietitian,
    external_ref: str | None = None,
    name: str | None = None,
    ai_consent: bool | None = None,
) -> Dietitian:
    """Changes the given fields; a change of consent (given or withdrawn) records its time."""
    for field, value in _clean_dietitian_fields(external_ref=external_ref, name=name).items():
        setattr(dietitian, field, value)
    if ai_consent is not None and bool(ai_consent) != dietitian.ai_consent:
        dietitian.ai_consent = bool(ai_consent)
        dietitian.ai_consent_changed_at = timezone.now()
    return _save_dietitian(dietitian)


# --- samples ----------------------------------------------------------------------------


def _screen(*, title: str, body: str) -> ScreenVerdict:
    return screen_text(f"{title}\n\n{body}" if title else body)


def _apply_verdict(sample: ContentSample, verdict: ScreenVerdict) -> None:
    sample.status = (
        ContentSample.Status.QUARANTINED if verdict.flagged else ContentSample.Status.APPROVED
    )
    sample.screen_score = verdict.score
    sample.screen_reasons = list(verdict.reasons)
    sample.reviewed_by = None
    sample.reviewed_at = None


def _check_dietitian(*, tenant: Tenant, dietitian: Dietitian, field: str = "dietitian") -> None:
    if dietitian.tenant_id != tenant.pk:
        raise InvalidInput(details={field: ["No such dietitian."]})


@dataclass(frozen=True)
class SampleDraft:
    """A validated, screened sample not yet saved."""

    title: str
    body: str
    kind: str
    language: str
    verdict: ScreenVerdict


def sample_draft(
    *, body, title="", kind: str = SampleKind.OTHER, language: str = "en"
) -> SampleDraft:
    """Validates and screens without writing; raises InvalidInput with field errors."""
    title = validation.clean_title(title)
    body = validation.clean_body(body)
    kind = validation.clean_kind(kind)
    language = validation.clean_language(language)
    return SampleDraft(
        title=title,
        body=body,
        kind=kind,
        language=language,
        verdict=_screen(title=title, body=body),
    )


def _sample_from_draft(*, tenant, dietitian, draft: SampleDraft, batch_id=None) -> ContentSample:
    sample = ContentSample(
        tenant=tenant,
        dietitian=dietitian,
        batch_id=batch_id,
        kind=draft.kind,
        title=draft.title,
        body=draft.body,
        language=draft.language,
    )
    _apply_verdict(sample, draft.verdict)
    return sample


def sample_create(
    *,
    tenant: Tenant,
    dietitian: Dietitian,
    body: str,
    title: str = "",
    kind: str = SampleKind.OTHER,
    language: str = "en",
) -> ContentSample:
    """A screened sample: approved, or quarantined with the screen's reasons for review."""
    _check_dietitian(tenant=tenant, dietitian=dietitian)
    draft = sample_draft(body=body, title=title, kind=kind, language=language)
    sample = _sample_from_draft(tenant=tenant, dietitian=dietitian, draft=draft)
    sample.save()
    return sample


def sample_store_batch(
    *, tenant: Tenant, dietitian: Dietitian, kind: str, contents: list[str]
) -> uuid.UUID:
    """storeContent: one sample per text under one batch id; all of them or none."""
    _check_dietitian(tenant=tenant, dietitian=dietitian, field="dietitian-uuid")
    if not isinstance(contents, list) or not contents:
        raise InvalidInput(details={"content": ["Send a non-empty list of texts."]})
    if len(contents) > validation.BATCH_MAX_ITEMS:
        raise InvalidInput(
            details={"content": [f"At most {validation.BATCH_MAX_ITEMS} texts per call."]}
        )
    drafts, errors = [], {}
    for index, text in enumerate(contents):
        try:
            drafts.append(sample_draft(body=text, kind=kind))
        except InvalidInput as exc:
            errors[str(index)] = exc.details.get("body", [exc.message])
    if errors:
        raise InvalidInput(
            "Some texts are not valid; nothing was stored.", details={"content": errors}
        )
    batch_id = uuid.uuid4()
    samples = [
        _sample_from_draft(tenant=tenant, dietitian=dietitian, draft=draft, batch_id=batch_id)
        for draft in drafts
    ]
    with transaction.atomic():
        ContentSample.objects.bulk_create(samples)
    return batch_id


_UNSET = object()


def sample_update(
    *,
    sample: ContentSample,
    title=_UNSET,
    body=_UNSET,
    kind=_UNSET,
    language=_UNSET,
) -> ContentSample:
    """Changes the given fields; changed text is screened again and any earlier review is void.

    Everything is validated before anything is assigned, so a refused update changes nothing.
    """
    cleaners = {
        "kind": (kind, validation.clean_kind),
        "language": (language, validation.clean_language),
        "title": (title, validation.clean_title),
        "body": (body, validation.clean_body),
    }
    values = {
        field: clean(value) for field, (value, clean) in cleaners.items() if value is not _UNSET
    }
    changed = [field for field, value in values.items() if getattr(sample, field) != value]
    if not changed:
        return sample
    for field in changed:
        setattr(sample, field, values[field])
    if {"title", "body"} & set(changed):
        _apply_verdict(sample, _screen(title=sample.title, body=sample.body))
        changed += ["status", "screen_score", "screen_reasons", "reviewed_by", "reviewed_at"]
    sample.save(update_fields=[*changed, "updated_at"])
    return sample


def sample_delete(*, sample: ContentSample) -> None:
    sample.delete()


def _review(*, sample: ContentSample, reviewer, status: str) -> ContentSample:
    sample.status = status
    sample.reviewed_by = reviewer
    sample.reviewed_at = timezone.now()
    sample.save(update_fields=["status", "reviewed_by", "reviewed_at", "updated_at"])
    return sample


def sample_approve(*, sample: ContentSample, reviewer) -> ContentSample:
    """Staff review: the sample may be used in prompts; records who decided and when."""
    return _review(sample=sample, reviewer=reviewer, status=ContentSample.Status.APPROVED)


def sample_reject(*, sample: ContentSample, reviewer) -> ContentSample:
    """Staff review: the sample is never used; records who decided and when."""
    return _review(sample=sample, reviewer=reviewer, status=ContentSample.Status.REJECTED)
