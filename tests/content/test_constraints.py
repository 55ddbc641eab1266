"""Database rules: a sample's dietitian is in the sample's tenant, whatever the code does."""

import pytest
from django.db import IntegrityError, connection, transaction

from content.models import ContentSample

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="composite FK is PostgreSQL-only")
def test_the_database_refuses_a_sample_whose_dietitian_is_of_another_tenant(tenant_a, dietitian_b):
    def write():
        with transaction.atomic():
            ContentSample.objects.create(tenant=tenant_a, dietitian=dietitian_b, body="x")
            connection.check_constraints()  # the key is deferred: check it now, not at commit

    with pytest.raises(IntegrityError):
        write()


def test_the_database_refuses_an_unknown_status(tenant_a, dietitian_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        ContentSample.objects.create(
            tenant=tenant_a, dietitian=dietitian_a, body="x", status="published"
        )


def test_moving_a_dietitian_with_samples_to_another_tenant_is_refused(
    sample_a, dietitian_a, tenant_b
):
    dietitian_a.tenant = tenant_b

    def move():
        with transaction.atomic():
            dietitian_a.save()
            connection.check_constraints()

    with pytest.raises(IntegrityError):
        move()
