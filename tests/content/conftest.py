"""Content fixtures: samples of the shared cast's dietitians, a dietitian with a portal login."""

import pytest
from django.contrib.auth import get_user_model

from content import services


@pytest.fixture
def sample_a(tenant_a, dietitian_a):
    return services.sample_create(
        tenant=tenant_a,
        dietitian=dietitian_a,
        title="Mediterranean week",
        body="Eat vegetables at every meal and fish twice a week.",
        kind="diet_introduction",
    )


@pytest.fixture
def sample_b(tenant_b, dietitian_b):
    return services.sample_create(
        tenant=tenant_b, dietitian=dietitian_b, body="Beta's own text about oats and berries."
    )


@pytest.fixture
def dietitian_user_a(dietitian_a):
    user = get_user_model().objects.create_user("dana", "dana@alpha.test", "a long password 1")
    dietitian_a.user = user
    dietitian_a.save(update_fields=["user"])
    return user
