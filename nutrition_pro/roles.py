"""Roles of the control plane: groups whose permissions are defined here, in one place.

`ROLE_MATRIX` says, for every model of the project, which role may do what with it.
`roles_apply()` makes each group hold exactly those permissions (removing any other),
so a role cannot grow by hand-editing the group or by a new model: a model that is
missing from the matrix is reported by `manage.py sync_roles --check` and fails the
permission-matrix test. Administrator holds every permission, present and future.
It runs from a data migration, after every migrate (post_migrate), and on demand.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

ADMINISTRATOR = "Administrator"
ONBOARDING = "Onboarding Manager"
BILLING = "Billing"
SUPPORT = "Support"
ROLES = [ADMINISTRATOR, ONBOARDING, BILLING, SUPPORT]

VIEW = ("view",)
ADD_CHANGE_VIEW = ("add", "change", "view")
ALL = ("add", "change", "delete", "view")

# "app_label.model" -> {role: actions}. Roles not named get nothing on that model
# (Administrator always gets everything). Every model must appear, even with {}.
ROLE_MATRIX: dict[str, dict[str, tuple[str, ...]]] = {
    # tenants: onboarding owns tenants, plans and keys; support reads; billing reads tenants
    "tenants.plan": {ONBOARDING: ADD_CHANGE_VIEW, BILLING: VIEW, SUPPORT: VIEW},
    "tenants.tenant": {ONBOARDING: ADD_CHANGE_VIEW, BILLING: VIEW, SUPPORT: VIEW},
    "tenants.apikey": {ONBOARDING: ADD_CHANGE_VIEW, SUPPORT: VIEW},
    "tenants.dietitian": {ONBOARDING: ADD_CHANGE_VIEW, SUPPORT: VIEW},
    "tenants.tenantmembership": {ONBOARDING: ALL, SUPPORT: VIEW},
    # anomaly alerts: onboarding acknowledges them (a change), support reads them
    "tenants.keyanomalyalert": {ONBOARDING: ("change", "view"), SUPPORT: VIEW},
    # billing: prices and invoices belong to Billing; the ledger is read-only for everyone
    "billing.modelprice": {BILLING: ADD_CHANGE_VIEW, SUPPORT: VIEW},
    "billing.invoice": {BILLING: ADD_CHANGE_VIEW, SUPPORT: VIEW},
    "billing.invoiceline": {BILLING: VIEW, SUPPORT: VIEW},
    "billing.usagerecord": {BILLING: VIEW, SUPPORT: VIEW},
    "billing.usageperiod": {BILLING: VIEW, SUPPORT: VIEW},
    "billing.quotareservation": {BILLING: VIEW, SUPPORT: VIEW},
    "billing.usagealert": {BILLING: VIEW, SUPPORT: VIEW},
    # llm: support sees what happened to a request (status, verdicts), never its content
    "llm.generationrequest": {SUPPORT: VIEW},
    # content: support may look at samples (read-only); review stays with administrators
    "content.contentsample": {SUPPORT: VIEW},
    # people: onboarding adds a tenant's first manager; nobody but admins edits accounts
    "auth.user": {ONBOARDING: ("add", "view"), SUPPORT: VIEW},
    "auth.group": {},
    "auth.permission": {},
    # the audit log: read-only for every role (its admin refuses add, change and delete)
    "auditlog.logentry": {ONBOARDING: VIEW, BILLING: VIEW, SUPPORT: VIEW},
    "admin.logentry": {},
    "contenttypes.contenttype": {},
    "sessions.session": {},
    # second factors and lockouts: managed by their owners and administrators only
    "otp_totp.totpdevice": {},
    "nutrition_pro.backupcodedevice": {},
    "nutrition_pro.backupcode": {},
    "nutrition_pro.signinlockout": {SUPPORT: VIEW},
}

# Permissions beyond add/change/delete/view: "app_label.codename" -> roles holding it.
# Support reads generation requests but never their decrypted prompts and responses.
CUSTOM_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "llm.view_generation_content": (),
}


def expected_permissions() -> dict[str, set[str]]:
    """Role -> the "app_label.codename" strings the matrix grants (Administrator excluded)."""
    granted: dict[str, set[str]] = {role: set() for role in ROLES if role != ADMINISTRATOR}
    for label, by_role in ROLE_MATRIX.items():
        model = label.split(".", 1)[1]
        app_label = label.split(".", 1)[0]
        for role, actions in by_role.items():
            granted[role].update(f"{app_label}.{action}_{model}" for action in actions)
    for permission, roles in CUSTOM_PERMISSIONS.items():
        for role in roles:
            granted[role].add(permission)
    return granted


def unclassified_permissions(Permission) -> list[str]:
    """Permissions in the database that the matrix does not decide about."""
    unknown = []
    for app_label, model, codename in Permission.objects.values_list(
        "content_type__app_label", "content_type__model", "codename"
    ):
        label = f"{app_label}.{model}"
        full = f"{app_label}.{codename}"
        default = codename.rsplit("_", 1)[-1] == model and codename.split("_", 1)[0] in {
            "add",
            "change",
            "delete",
            "view",
        }
        if (default and label not in ROLE_MATRIX) or (
            not default and full not in CUSTOM_PERMISSIONS
        ):
            unknown.append(full)
    return sorted(unknown)


def roles_apply(*, Group, Permission) -> dict[str, list[str]]:
    """Makes every role group hold exactly its permissions; returns permissions not yet in the DB.

    Takes the models as arguments so that the data migration can pass historical ones.
    """
    by_name = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    missing: dict[str, list[str]] = {}
    admin_group, _ = Group.objects.get_or_create(name=ADMINISTRATOR)
    admin_group.permissions.set(list(by_name.values()))
    for role, permissions in expected_permissions().items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([by_name[p] for p in permissions if p in by_name])
        absent = sorted(p for p in permissions if p not in by_name)
        if absent:
            missing[role] = absent
    return missing


def roles_sync_on_migrate(sender, using="default", apps=None, **kwargs) -> None:
    """post_migrate: re-applies the matrix once the last installed app has its permissions."""
    from django.apps import apps as global_apps

    configs = list(global_apps.get_app_configs())
    if sender is not configs[-1] and getattr(sender, "label", None) != configs[-1].label:
        return
    from django.contrib.auth.models import Group, Permission

    roles_apply(Group=Group, Permission=Permission)
