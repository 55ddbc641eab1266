"""Writes of the generation pipeline: create a request, run it, retry it, purge old text.

A request is a row plus a task. `generation_request` validates, reserves quota and creates
the row in one transaction, and enqueues the task only after that transaction commits.
`generation_run` (called by the task) moves the row through running to succeeded, failed
or blocked; it is safe to run twice for the same row (a re-delivered task): a lease keeps
two workers from calling the provider at once, the provider's answer is checkpointed with
its settlement in one transaction, and a finished row is never touched again.
"""

import contextlib
import hashlib
import json
import logging
import random
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from billing import services as billing
from billing.models import ModelPrice
from content.screening import screen_text
from llm import circuit, client, offline, prompts, selectors
from llm.guards import BLOCKED, run_output_guards
from llm.models import GenerationRequest
from llm.redaction import redact_text
from nutrition_pro.exceptions import InvalidInput, ServiceError, TooManyRequests
from nutrition_pro.sql import param
from tenants.models import ApiKey, Dietitian, Tenant

logger = logging.getLogger(__name__)
Status = GenerationRequest.Status


class ConsentRequired(ServiceError):
    status_code = 403
    code = "consent_required"
    default_message = "This dietitian has not consented to AI processing."


class IdempotencyKeyReused(ServiceError):
    status_code = 422
    code = "idempotency_key_reused"
    default_message = "This Idempotency-Key was already used with a different request body."


class QueueFull(TooManyRequests):
    default_message = "Too many generations are queued or running for this tenant."


class NotRetryable(ServiceError):
    status_code = 409
    code = "not_retryable"
    default_message = "Only a failed generation can be retried."


@dataclass(frozen=True)
class CreatedGeneration:
    generation: GenerationRequest
    replayed: bool


@dataclass(frozen=True)
class RunOutcome:
    """What the task does next: nothing, or run again after `retry_in` seconds."""

    retry_in: float | None = None


# --- create -----------------------------------------------------------------------------------


def _fingerprint(*, dietitian_id, kind, inputs, notes, sample_ids) -> str:
    body = {
        "dietitian": str(dietitian_id),
        "kind": kind,
        "inputs": inputs,
        "notes": notes or "",
        "sample_ids": sorted(str(s) for s in sample_ids or []),
    }
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(existing: GenerationRequest, fingerprint: str) -> CreatedGeneration:
    if existing.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(details={"id": str(existing.pk)})
    return CreatedGeneration(existing, replayed=True)


def _provider_model() -> tuple[str, str]:
    if settings.LLM_PROVIDER == "offline":
        _offline_price_ensure()
        return "offline", offline.OFFLINE_MODEL
    return "openai", settings.OPENAI_MODEL


def _offline_price_ensure() -> None:
    """The offline generator costs nothing: its usage is metered at a zero price (created
    once, on a fresh `make run` database where no price exists yet)."""
    if ModelPrice.objects.filter(model=offline.OFFLINE_MODEL).exists():
        return
    # A concurrent first request may have created it: either way there is one now.
    with contextlib.suppress(InvalidInput, IntegrityError):
        billing.model_price_set(
            model=offline.OFFLINE_MODEL,
            input_price_per_million=Decimal("0"),
            output_price_per_million=Decimal("0"),
        )


def _enqueue(generation_id) -> None:
    from llm.tasks import generation_run_task

    generation_run_task.delay(str(generation_id))


def generation_request(
    *,
    api_key: ApiKey,
    dietitian_id,
    kind: str,
    inputs: dict,
    notes: str = "",
    sample_ids: list | None = None,
    idempotency_key: str = "",
) -> CreatedGeneration:
    """Creates a queued request (202) or returns the one made with the same Idempotency-Key.

    Refused with nothing created, queued or charged: an unknown dietitian or sample (400),
    a dietitian without AI consent (403), a full tenant queue (429 rate_limited) or an
    exhausted quota (429 quota_exceeded).
    """
    tenant = api_key.tenant
    sample_ids = [str(s) for s in sample_ids or []]
    fingerprint = _fingerprint(
        dietitian_id=dietitian_id, kind=kind, inputs=inputs, notes=notes, sample_ids=sample_ids
    )
    existing = selectors.generation_by_idempotency_key(tenant=tenant, key=idempotency_key)
    if existing is not None:
        return _replay(existing, fingerprint)

    dietitian = selectors.dietitian_find(tenant=tenant, dietitian_id=dietitian_id)
    if dietitian is None:
        raise InvalidInput(details={"dietitian": ["No such dietitian."]})
    if not dietitian.ai_consent:
        raise ConsentRequired(details={"dietitian": str(dietitian.pk)})
    samples = selectors.approved_samples(tenant=tenant, dietitian=dietitian, sample_ids=sample_ids)
    if sample_ids and len(samples) != len(set(sample_ids)):
        found = {str(s.pk) for s in samples}
        missing = sorted(set(sample_ids) - found)
        raise InvalidInput(
            details={
                "sample_ids": [f"Not an approved sample of this dietitian: {s}" for s in missing]
            }
        )
    estimate = prompts.estimate_tokens(
        [
            {"content": prompts.TEMPLATES[prompts.CURRENT_VERSION]["system"]},
            {"content": json.dumps(inputs) + (notes or "")},
            *({"content": s.title + s.body} for s in samples),
        ]
    )
    provider, model = _provider_model()
    try:
        with transaction.atomic():
            # Serialises this tenant's creations, so the queue cap cannot be overrun by a race.
            locked = (
                Tenant.objects.select_for_update().only("max_queued_generations").get(pk=tenant.pk)
            )
            active = selectors.generation_active_count(tenant=tenant)
            if active >= locked.max_queued_generations:
                raise QueueFull(
                    details={
                        "reason": "queue_full",
                        "active_generations": active,
                        "max_queued_generations": locked.max_queued_generations,
                    },
                    headers={"Retry-After": "5"},
                )
            generation = GenerationRequest.objects.create(
                tenant=tenant,
                api_key=api_key,
                dietitian=dietitian,
                kind=kind,
                inputs=inputs,
                notes=notes or None,
                requested_sample_ids=sample_ids,
                sample_ids=[str(s.pk) for s in samples],
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint,
                provider=provider,
                model=model,
                prompt_version=prompts.CURRENT_VERSION,
            )
            billing.quota_reserve(
                tenant=tenant,
                api_key=api_key,
                generation_id=generation.pk,
                model=model,
                prompt_tokens_estimate=estimate,
                max_output_tokens=settings.LLM_MAX_OUTPUT_TOKENS,
            )
            transaction.on_commit(lambda: _enqueue(generation.pk))
    except IntegrityError:
        # A concurrent request with the same Idempotency-Key committed first.
        existing = selectors.generation_by_idempotency_key(tenant=tenant, key=idempotency_key)
        if existing is None:
            raise
        return _replay(existing, fingerprint)
    logger.info("Generation %s queued (%s)", generation.pk, kind)
    return CreatedGeneration(generation, replayed=False)


# --- run --------------------------------------------------------------------------------------


def requeue_delay(attempts: int, retry_after: float | None = None) -> float:
    base = settings.LLM_REQUEUE_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    delay = max(base, retry_after or 0.0)
    delay = min(delay, settings.LLM_REQUEUE_MAX_SECONDS)
    return delay / 2 + random.uniform(0, delay / 2) if retry_after is None else delay


# What a run reads of its row, tenant and dietitian (the rest stays in the database): the
# locked read of the slow claim loads these, and the usual claim RETURNs the same columns.
_RUN_FIELDS = (
    "tenant",
    "dietitian",
    "tenant__redact_before_provider",
    "dietitian__name",
    "dietitian__ai_consent",
    "kind",
    "inputs",
    "notes",
    "sample_ids",
    "status",
    "attempts",
    "error_code",
    "error_message",
    "started_at",
    "lease_token",
    "lease_expires_at",
    "provider",
    "model",
    "prompt_version",
    "provider_charged",
)


# The claim of the usual case, in one statement: take the lease of a queued row (or of a
# running one whose lease ran out) with attempts left, and return what the run reads of it,
# its tenant and its dietitian. Hand-written because it is on every generation's path: the
# ORM's UPDATE and then a select_related read cost 2.8 ms of CPU, this costs 0.5 ms. Scalar
# subqueries rather than UPDATE ... FROM, which SQLite (the demo database) cannot RETURN.
_RUN_COLUMNS = ", ".join(
    GenerationRequest._meta.get_field(name).column
    for name in ("id", *_RUN_FIELDS)
    if "__" not in name
)
# Column names come from the model, never from input.
_CLAIM_SQL = f"""
UPDATE llm_generationrequest
   SET status = %s, attempts = attempts + 1, started_at = COALESCE(started_at, %s),
       lease_token = %s, lease_expires_at = %s, updated_at = %s
 WHERE id = %s AND attempts < %s
   AND (status = %s
        OR (status = %s AND (lease_expires_at IS NULL OR lease_expires_at <= %s)))
RETURNING {_RUN_COLUMNS},
       (SELECT redact_before_provider FROM tenants_tenant
         WHERE tenants_tenant.id = llm_generationrequest.tenant_id) AS tenant_redacts,
       (SELECT name FROM tenants_dietitian
         WHERE tenants_dietitian.id = llm_generationrequest.dietitian_id) AS dietitian_name,
       (SELECT ai_consent FROM tenants_dietitian
         WHERE tenants_dietitian.id = llm_generationrequest.dietitian_id) AS dietitian_consents
"""  # noqa: S608


def _claim(generation_id) -> tuple[GenerationRequest | None, str, RunOutcome]:
    """Takes the lease on a queued row (or a running one whose worker died).

    The usual case is one conditional UPDATE, outside any transaction, that returns the row;
    when it matches nothing, the row is locked and looked at to tell why (gone, finished,
    leased to another worker, out of attempts)."""
    now = timezone.now()
    token = secrets.token_hex(16)
    lease_expires_at = now + timedelta(seconds=settings.LLM_LEASE_SECONDS)
    params = [
        Status.RUNNING,
        param(GenerationRequest, "started_at", now),
        token,
        param(GenerationRequest, "lease_expires_at", lease_expires_at),
        param(GenerationRequest, "updated_at", now),
        param(GenerationRequest, "id", generation_id),
        settings.LLM_MAX_ATTEMPTS,
        Status.QUEUED,
        Status.RUNNING,
        param(GenerationRequest, "lease_expires_at", now),
    ]
    # raw() maps the columns to the model (decrypting the notes, decoding the JSON) and
    # leaves every other field deferred; it runs the statement once, when iterated.
    generation = next(iter(GenerationRequest.objects.raw(_CLAIM_SQL, params)), None)
    if generation is None:
        return _claim_locked(generation_id)
    # The tenant and dietitian as select_related would give them, with only what a run reads.
    generation.tenant = Tenant.from_db(
        "default",
        ["id", "redact_before_provider"],
        [generation.tenant_id, generation.tenant_redacts],
    )
    generation.dietitian = Dietitian.from_db(
        "default",
        ["id", "tenant_id", "name", "ai_consent"],
        [
            generation.dietitian_id,
            generation.tenant_id,
            generation.dietitian_name,
            generation.dietitian_consents,
        ],
    )
    return generation, token, RunOutcome()


def _run_row(generation_id):
    return (
        GenerationRequest.objects.select_related("tenant", "dietitian")
        .only(*_RUN_FIELDS)
        .filter(pk=generation_id)
        .order_by()
    )


def _claim_locked(generation_id) -> tuple[GenerationRequest | None, str, RunOutcome]:
    with transaction.atomic():
        generation = _run_row(generation_id).select_for_update(of=("self",)).first()
        if generation is None or generation.is_finished:
            return None, "", RunOutcome()
        now = timezone.now()
        if generation.lease_is_held(now):
            wait = (generation.lease_expires_at - now).total_seconds() + 0.5
            return None, "", RunOutcome(retry_in=wait)
        if generation.attempts >= settings.LLM_MAX_ATTEMPTS:
            _finish(
                generation,
                status=Status.FAILED,
                error_code=generation.error_code or "attempts_exhausted",
                error_message=(
                    generation.error_message or "The generation did not complete after retries."
                ),
            )
            return None, "", RunOutcome()
        token = secrets.token_hex(16)
        generation.status = Status.RUNNING
        generation.attempts += 1
        generation.started_at = generation.started_at or now
        generation.lease_token = token
        generation.lease_expires_at = now + timedelta(seconds=settings.LLM_LEASE_SECONDS)
        generation.save(
            update_fields=[
                "status",
                "attempts",
                "started_at",
                "lease_token",
                "lease_expires_at",
                "updated_at",
            ]
        )
    return generation, token, RunOutcome()


def _finish(generation: GenerationRequest, *, status: str, **fields) -> None:
    """Writes a final status (inside the caller's transaction, row locked)."""
    generation.status = status
    generation.finished_at = timezone.now()
    generation.lease_token = ""
    generation.lease_expires_at = None
    changed = ["status", "finished_at", "lease_token", "lease_expires_at", "updated_at"]
    if generation.notes:
        generation.notes = redact_text(generation.notes)
        changed.append("notes")
    for name, value in fields.items():
        setattr(generation, name, value)
    generation.save(update_fields=changed + list(fields))
    if status != Status.SUCCEEDED and not generation.provider_charged:
        billing.quota_release(generation_id=generation.pk)
    logger.info(
        "Generation %s %s%s",
        generation.pk,
        status,
        f" ({generation.error_code})" if generation.error_code else "",
    )


def _locked_row(generation_id) -> GenerationRequest:
    """The row, locked for the rest of the caller's transaction (stored texts not loaded)."""
    return (
        GenerationRequest.objects.select_for_update()
        .defer("prompt", "response")
        .get(pk=generation_id)
    )


def _finish_locked(generation_id, *, status: str, **fields) -> GenerationRequest | None:
    with transaction.atomic():
        generation = _locked_row(generation_id)
        if generation.is_finished:
            return None
        _finish(generation, status=status, **fields)
        return generation


def _fail_or_requeue(
    generation_id, *, error: client.ProviderError | client.CircuitOpen, prompt_fields=None
):
    if isinstance(error, client.CircuitOpen):
        code, message, retryable = "provider_unavailable", str(error), True
    else:
        code, message, retryable = error.code, error.message, error.retryable
    retry_after = error.retry_after
    prompt_fields = prompt_fields or {}
    with transaction.atomic():
        generation = _locked_row(generation_id)
        if generation.is_finished:
            return RunOutcome()
        if not retryable or generation.attempts >= settings.LLM_MAX_ATTEMPTS:
            _finish(
                generation,
                status=Status.FAILED,
                error_code=code if not retryable else "provider_unavailable",
                error_message=message[:500],
                **prompt_fields,
            )
            return RunOutcome()
        generation.status = Status.QUEUED
        generation.lease_token = ""
        generation.lease_expires_at = None
        generation.error_code = code
        generation.error_message = message[:500]
        for name, value in prompt_fields.items():
            setattr(generation, name, value)
        generation.save(
            update_fields=[
                "status",
                "lease_token",
                "lease_expires_at",
                "error_code",
                "error_message",
                "updated_at",
                *prompt_fields,
            ]
        )
    delay = requeue_delay(generation.attempts, retry_after)
    logger.info(
        "Generation %s waits %.1fs before attempt %d", generation_id, delay, generation.attempts + 1
    )
    return RunOutcome(retry_in=delay)


def _release_db_connection() -> None:
    # The provider call takes seconds; with dozens of threads per worker, holding a database
    # connection through it would exhaust PostgreSQL. Django reconnects on the next query.
    if not connection.in_atomic_block:
        connection.close()


def _redact_messages(messages: list[dict]) -> list[dict]:
    return [{**m, "content": redact_text(m["content"])} for m in messages]


def _checkpoint_answer(
    generation_id, completion: client.Completion, prompt_fields: dict
) -> tuple[bool, str]:
    """Stores the provider's answer and settles its usage, once, in one transaction.

    Returns (stored by us, the stored answer): a concurrent delivery of the same task that
    got there first keeps its answer, and ours is dropped (it was never settled twice)."""
    text = redact_text(completion.text)
    with transaction.atomic():
        # A conditional UPDATE: only the first delivery with an answer stores (and settles) it.
        stored = GenerationRequest.objects.filter(pk=generation_id, provider_charged=False).update(
            response=text,
            model=completion.model,
            provider=completion.provider,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            latency_ms=completion.latency_ms,
            provider_charged=True,
            updated_at=timezone.now(),
            **prompt_fields,
        )
        if not stored:
            return False, ""
        billing.quota_settle(
            generation_id=generation_id,
            model=completion.model,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
        )
    return True, text


_CANARY = re.compile(r"CANARY-[0-9a-f]{16}")


def _stored_system_text(generation: GenerationRequest) -> tuple[str, str]:
    stored = GenerationRequest.objects.only("prompt").get(pk=generation.pk).prompt or "[]"
    messages = json.loads(stored)
    system_text = messages[0]["content"] if messages else ""
    match = _CANARY.search(system_text)
    return system_text, match.group(0) if match else ""


def generation_run(*, generation_id) -> RunOutcome:
    """Runs one delivery of a generation's task; see the module docstring."""
    generation, _lease, outcome = _claim(generation_id)
    if generation is None:
        return outcome
    tenant, dietitian = generation.tenant, generation.dietitian

    if not generation.provider_charged:
        if not dietitian.ai_consent:
            _finish_locked(
                generation.pk,
                status=Status.FAILED,
                error_code="consent_withdrawn",
                error_message="The dietitian withdrew consent to AI processing.",
            )
            return RunOutcome()
        notes = generation.notes or ""
        flagged = _screen_inputs(generation.inputs or {}, notes)
        if flagged is not None:
            _finish_locked(
                generation.pk,
                status=Status.BLOCKED,
                error_code=flagged["reason"],
                error_message="The request's free text was flagged by the injection screen.",
                guard_verdicts=[flagged],
            )
            return RunOutcome()
        # Samples are re-read now: one quarantined since the request was made is not used.
        samples = selectors.approved_samples(
            tenant=tenant, dietitian=dietitian, sample_ids=generation.sample_ids
        )
        built = prompts.build_prompt(
            kind=generation.kind,
            dietitian_name=dietitian.name,
            inputs=generation.inputs,
            notes=notes,
            samples=[prompts.SampleText(s.title, s.body) for s in samples],
            min_kcal=settings.LLM_MIN_DAILY_KCAL,
            version=generation.prompt_version or prompts.CURRENT_VERSION,
        )
        redacted_messages = _redact_messages(built.messages)
        sent_messages = redacted_messages if tenant.redact_before_provider else built.messages
        # Stored with the answer (or the failure): one write instead of two on the hot path.
        prompt_fields = {
            "prompt": json.dumps(redacted_messages, ensure_ascii=False),
            "sample_ids": [str(s.pk) for s in samples],
            "prompt_version": built.version,
        }
        system_text, canary = built.system_text, built.canary

        if generation.provider == "offline":
            completion = offline.compose(
                kind=generation.kind,
                dietitian_name=dietitian.name,
                inputs=generation.inputs,
                samples=samples,
            )
        else:
            slot = circuit.slot_acquire()
            if slot is None:
                return _wait_for_slot(generation.pk)
            _release_db_connection()
            try:
                completion = client.chat_complete(messages=sent_messages)
            except (client.ProviderError, client.CircuitOpen) as error:
                return _fail_or_requeue(generation.pk, error=error, prompt_fields=prompt_fields)
            finally:
                circuit.slot_release(slot)
        stored, text = _checkpoint_answer(generation.pk, completion, prompt_fields)
        if not stored:
            return RunOutcome()  # another delivery owns this answer and finishes the request
    else:
        # A previous delivery got the answer and died before finishing: no second call.
        system_text, canary = _stored_system_text(generation)
        text = GenerationRequest.objects.only("response").get(pk=generation.pk).response or ""

    return _guard_and_finish(generation, text=text, system_text=system_text, canary=canary)


def _screen_inputs(inputs: dict, notes: str) -> dict | None:
    """The injection screen over the free text of a request (the notes, then the short
    texts: goals and preferences), as for samples; the blocking verdict, or None."""
    short_texts = "\n".join(
        str(text) for name in ("goals", "dietary_preferences") for text in inputs.get(name) or []
    )
    for reason, text in (("notes_flagged", notes), ("inputs_flagged", short_texts)):
        if not text:
            continue
        verdict = screen_text(text)
        if verdict.flagged:
            return {
                "guard": "input_screen",
                "outcome": BLOCKED,
                "reason": reason,
                "details": {"score": verdict.score, "reasons": list(verdict.reasons)},
            }
    return None


def _wait_for_slot(generation_id) -> RunOutcome:
    with transaction.atomic():
        generation = _locked_row(generation_id)
        if generation.is_finished:
            return RunOutcome()
        # Waiting for capacity is not an attempt at the provider.
        generation.status = Status.QUEUED
        generation.attempts = max(generation.attempts - 1, 0)
        generation.lease_token = ""
        generation.lease_expires_at = None
        generation.save(
            update_fields=["status", "attempts", "lease_token", "lease_expires_at", "updated_at"]
        )
    return RunOutcome(retry_in=1.0 + random.uniform(0, 1.0))


def _guard_and_finish(generation: GenerationRequest, *, text: str, system_text: str, canary: str):
    inputs = generation.inputs or {}
    moderate = client.moderate if generation.provider == "openai" else None
    try:
        result = run_output_guards(
            text,
            canary=canary,
            system_text=system_text,
            allergies=list(inputs.get("allergies") or []),
            clinical=bool(inputs.get("clinical_supervision")),
            min_kcal=settings.LLM_MIN_DAILY_KCAL,
            moderate=moderate,
        )
    except (client.ProviderError, client.CircuitOpen) as error:
        # Moderation is unavailable: fail closed, and try the guards again later.
        return _fail_or_requeue(generation.pk, error=error)
    blocked = result.blocked
    if blocked is not None:
        fields = {
            "status": Status.BLOCKED,
            "error_code": blocked["reason"],
            "error_message": f"The text was withheld by the {blocked['guard']} guard.",
        }
    else:
        fields = {
            "status": Status.SUCCEEDED,
            "response": redact_text(result.text),
            "error_code": "",
            "error_message": "",
        }
    if generation.notes:
        fields["notes"] = redact_text(generation.notes)
    # The usage is settled already, so nothing is released; a conditional UPDATE (one query)
    # ends the row unless another delivery of the task ended it first.
    now = timezone.now()
    GenerationRequest.objects.filter(pk=generation.pk, status=Status.RUNNING).update(
        guard_verdicts=result.verdicts,
        finished_at=now,
        updated_at=now,
        lease_token="",
        lease_expires_at=None,
        **fields,
    )
    logger.info("Generation %s %s", generation.pk, fields["status"])
    return RunOutcome()


# --- operator actions -------------------------------------------------------------------------


def generation_retry(*, generation: GenerationRequest) -> GenerationRequest:
    """Puts a failed request back in the queue (the admin's retry action)."""
    with transaction.atomic():
        generation = GenerationRequest.objects.select_for_update().get(pk=generation.pk)
        if not generation.can_retry:
            raise NotRetryable(details={"status": generation.status})
        if not generation.provider_charged:
            # Idempotent per generation: holds the quota again only if nothing is held.
            billing.quota_reserve(
                tenant=generation.tenant,
                api_key=generation.api_key,
                generation_id=generation.pk,
                model=generation.model,
                prompt_tokens_estimate=0,
                max_output_tokens=settings.LLM_MAX_OUTPUT_TOKENS,
            )
        generation.status = Status.QUEUED
        generation.attempts = 0
        generation.error_code = ""
        generation.error_message = ""
        generation.finished_at = None
        generation.save()
        transaction.on_commit(lambda: _enqueue(generation.pk))
    return generation


def generation_requeue_stale(*, now=None) -> int:
    """Enqueues again the requests whose task message was lost: queued and untouched for
    LLM_STALE_AFTER_SECONDS, or running with a lease that expired that long ago."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.LLM_STALE_AFTER_SECONDS)
    stale = list(
        GenerationRequest.objects.filter(
            Q(status=Status.QUEUED, updated_at__lt=cutoff)
            | Q(status=Status.RUNNING, lease_expires_at__lt=cutoff)
        ).values_list("pk", flat=True)[:1000]
    )
    for generation_id in stale:
        _enqueue(generation_id)
    if stale:
        logger.warning("Requeued %d stale generations", len(stale))
    return len(stale)


def generation_purge_expired(*, now=None) -> int:
    """Deletes stored prompts, responses and notes past each tenant's retention; keeps the
    metering fields (tokens, model, latency, status) for billing and statistics."""
    now = now or timezone.now()
    purged = 0
    for tenant_id, days in Tenant.objects.values_list("id", "log_retention_days"):
        purged += GenerationRequest.objects.filter(
            tenant_id=tenant_id,
            created_at__lt=now - timedelta(days=days),
            status__in=GenerationRequest.FINAL_STATUSES,
            content_purged_at__isnull=True,
        ).update(prompt=None, response=None, notes=None, content_purged_at=now, updated_at=now)
    if purged:
        logger.info("Purged stored prompts and responses of %d generations", purged)
    return purged
