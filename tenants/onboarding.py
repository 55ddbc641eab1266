"""Tenant onboarding: a tenant from a plan, its first manager and its first key, in one step."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from nutrition_pro.audit import Event, audit_event
from nutrition_pro.exceptions import InvalidInput
from tenants.models import Plan, Tenant, TenantMembership
from tenants.services import IssuedKey, api_key_issue, tenant_create


@dataclass(frozen=True)
class Onboarding:
    """The result of onboarding; `manager_password` and the key's plaintext are shown once."""

    tenant: Tenant
    manager: object
    manager_password: str
    issued_key: IssuedKey


def tenant_manager_create(*, tenant: Tenant, username: str, email: str) -> tuple[object, str]:
    """A portal account that manages `tenant`, with a one-time password; MFA is enrolled at
    its first sign-in."""
    User = get_user_model()
    username = (username or "").strip()
    if not username:
        raise InvalidInput(
            "The manager needs a username.", details={"manager_username": ["Required."]}
        )
    if User.objects.filter(username__iexact=username).exists():
        raise InvalidInput(
            "That username is taken.", details={"manager_username": ["Already in use."]}
        )
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            "The e-mail address is not valid.",
            details={"manager_email": ["Enter a valid address."]},
        ) from None
    password = secrets.token_urlsafe(15)
    user = User.objects.create_user(username=username, email=email, password=password)
    TenantMembership.objects.create(tenant=tenant, user=user)
    return user, password


@transaction.atomic
def tenant_onboard(
    *,
    name: str,
    plan: Plan,
    manager_username: str,
    manager_email: str,
    slug: str | None = None,
    key_name: str = "default",
    scopes: list[str] | None = None,
    created_by=None,
) -> Onboarding:
    """All or nothing: a refused manager or key leaves no tenant behind."""
    if plan is None:
        raise InvalidInput("Choose a plan.", details={"plan": ["Required."]})
    tenant = tenant_create(name=name, slug=slug, plan=plan)
    manager, password = tenant_manager_create(
        tenant=tenant, username=manager_username, email=manager_email
    )
    issued = api_key_issue(tenant=tenant, name=key_name, scopes=scopes, created_by=created_by)
    audit_event(
        Event.TENANT_ONBOARDED,
        obj=tenant,
        actor=created_by,
        data={"plan": plan.code, "manager": manager.get_username(), "key": issued.api_key.prefix},
    )
    return Onboarding(tenant=tenant, manager=manager, manager_password=password, issued_key=issued)
