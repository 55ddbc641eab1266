"""Sample bodies are ciphertext in the database and survive a key rotation."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from content.models import ContentSample

pytestmark = pytest.mark.django_db

BODY = "Start the day with oats, berries and a spoon of yoghurt."


def raw_body(sample) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM content_contentsample WHERE id = %s", [sample.pk])
        return cursor.fetchone()[0]


@pytest.fixture
def sample(tenant_a, dietitian_a):
    return ContentSample.objects.create(tenant=tenant_a, dietitian=dietitian_a, body=BODY)


def test_the_column_holds_ciphertext_not_the_text(sample):
    stored = raw_body(sample)
    assert "oats" not in stored
    assert stored.startswith("gAAAA")  # a Fernet token
    assert ContentSample.objects.get(pk=sample.pk).body == BODY


def test_rows_survive_key_rotation_and_reencryption(sample, settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    assert ContentSample.objects.get(pk=sample.pk).body == BODY  # old rows still read

    call_command("reencrypt_fields", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Fernet(new_key.encode()).decrypt(raw_body(sample).encode()).decode() == BODY

    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is retired
    assert ContentSample.objects.get(pk=sample.pk).body == BODY


def test_encrypted_column_cannot_be_filtered_by_value(sample):
    with pytest.raises(Exception, match="Unsupported lookup"):
        list(ContentSample.objects.filter(body=BODY))
