"""The permission matrix of the roles is pinned here: a role cannot grow by accident."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client

from nutrition_pro import roles
from tests.controlplane.conftest import make_user, sign_in

# The whole matrix, written out. Change it only together with nutrition_pro/roles.py
# and docs/control-plane.md.
EXPECTED = {
    roles.ONBOARDING: {
        "tenants.add_plan", "tenants.change_plan", "tenants.view_plan",
        "tenants.add_tenant", "tenants.change_tenant", "tenants.view_tenant",
        "tenants.add_apikey", "tenants.change_apikey", "tenants.view_apikey",
        "tenants.add_dietitian", "tenants.change_dietitian", "tenants.view_dietitian",
        "tenants.add_tenantmembership", "tenants.change_tenantmembership",
        "tenants.delete_tenantmembership", "tenants.view_tenantmembership",
        "tenants.change_keyanomalyalert", "tenants.view_keyanomalyalert",
        "auth.add_user", "auth.view_user",
        "auditlog.view_logentry",
    },
    roles.BILLING: {
        "tenants.view_plan", "tenants.view_tenant",
        "billing.add_modelprice", "billing.change_modelprice", "billing.view_modelprice",
        "billing.add_invoice", "billing.change_invoice", "billing.view_invoice",
        "billing.view_invoiceline", "billing.view_usagerecord", "billing.view_usageperiod",
        "billing.view_quotareservation", "billing.view_usagealert",
        "auditlog.view_logentry",
    },
    roles.SUPPORT: {
        "tenants.view_plan", "tenants.view_tenant", "tenants.view_apikey",
        "tenants.view_dietitian", "tenants.view_tenantmembership",
        "tenants.view_keyanomalyalert",
        "llm.view_generationrequest",
        "billing.view_modelprice", "billing.view_invoice", "billing.view_invoiceline",
        "billing.view_usagerecord", "billing.view_usageperiod",
        "billing.view_quotareservation", "billing.view_usagealert",
        "content.view_contentsample",
        "auth.view_user",
        "auditlog.view_logentry",
        "nutrition_pro.view_signinlockout",
    },
}  # fmt: skip


def _held(group_name: str) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=group_name).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_the_matrix_in_code_is_the_pinned_matrix():
    assert roles.expected_permissions() == EXPECTED


def _exists(permission: str) -> bool:
    app_label, codename = permission.split(".", 1)
    return Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists()


@pytest.mark.django_db
def test_each_role_group_holds_exactly_its_permissions():
    for role, permissions in EXPECTED.items():
        # (a permission of an app that is not installed in this checkout cannot be held)
        assert _held(role) == {p for p in permissions if _exists(p)}, role


@pytest.mark.django_db
def test_administrator_holds_every_permission():
    assert _held(roles.ADMINISTRATOR) == {
        f"{app}.{codename}"
        for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
    }


@pytest.mark.django_db
def test_no_role_but_administrator_may_read_decrypted_generation_content():
    for role in (roles.ONBOARDING, roles.BILLING, roles.SUPPORT):
        assert "llm.view_generation_content" not in _held(role)
        assert "llm.view_generation_content" not in roles.expected_permissions()[role]


@pytest.mark.django_db
def test_support_only_reads():
    for role in (roles.SUPPORT,):
        writes = {
            p for p in _held(role) if p.split(".")[1].startswith(("add_", "change_", "delete_"))
        }
        assert writes == set(), role


@pytest.mark.django_db
def test_every_permission_of_every_model_is_classified():
    assert roles.unclassified_permissions(Permission) == []
    project_models = {
        f"{model._meta.app_label}.{model._meta.model_name}" for model in apps.get_models()
    }
    assert project_models - set(roles.ROLE_MATRIX) == set()


@pytest.mark.django_db
def test_sync_removes_a_permission_added_by_hand_and_is_idempotent():
    support = Group.objects.get(name=roles.SUPPORT)
    support.permissions.add(Permission.objects.get(codename="change_tenant"))
    call_command("sync_roles", verbosity=0)
    call_command("sync_roles", verbosity=0)
    assert _held(roles.SUPPORT) == {p for p in EXPECTED[roles.SUPPORT] if _exists(p)}
    assert Group.objects.filter(name__in=roles.ROLES).count() == 4


@pytest.mark.django_db
def test_a_support_user_reads_the_admin_but_cannot_write():
    user, device = make_user("sam", staff=True, groups=[roles.SUPPORT])
    client = Client()
    sign_in(client, user, device)
    assert client.get("/admin/auth/user/").status_code == 200
    assert client.get("/admin/auditlog/logentry/").status_code == 200
    assert client.get("/admin/auth/user/add/").status_code == 403
    assert client.get("/admin/auth/group/").status_code == 403
