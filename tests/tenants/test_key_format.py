"""The key format: a public prefix, 160+ bits of secret, and a checksum checked before any I/O."""

import math
import re

import pytest

from tenants.keys import BASE62, PREFIX_LENGTH, SECRET_LENGTH, generate_key, looks_like_api_key


def test_a_key_has_a_long_prefix_and_at_least_160_random_bits():
    plaintext, parts = generate_key()
    assert re.fullmatch(r"np_[0-9a-z]{10}_[0-9A-Za-z]{38}", plaintext)
    assert len(parts.prefix) == PREFIX_LENGTH >= 8
    assert SECRET_LENGTH * math.log2(len(BASE62)) >= 160
    assert len({generate_key()[1].secret for _ in range(200)}) == 200


def test_a_scanner_recognises_a_leaked_key_without_the_database():
    # No `db` fixture: pytest-django raises if anything here touches the database.
    plaintext, _ = generate_key()
    leaked_in = f"config.py: OPENAI=1\nNUTRITION_KEY = '{plaintext}'\n"
    found = [
        word for word in re.findall(r"np_[0-9A-Za-z_]+", leaked_in) if looks_like_api_key(word)
    ]
    assert found == [plaintext]


@pytest.mark.parametrize("position", [3, 10, 14, 30, -1])
def test_a_single_mistyped_character_fails_the_checksum(position):
    plaintext, _ = generate_key()
    wrong = "1" if plaintext[position] != "1" else "2"
    mistyped = (
        plaintext[:position] + wrong + plaintext[position + 1 :]
        if position != -1
        else (plaintext[:-1] + wrong)
    )
    assert mistyped != plaintext
    assert not looks_like_api_key(mistyped)


def test_lookalikes_are_not_keys():
    plaintext, _ = generate_key()
    assert not looks_like_api_key(plaintext[:-1])
    assert not looks_like_api_key(plaintext + "x")
    assert not looks_like_api_key(plaintext.replace("np_", "nq_", 1))
    assert not looks_like_api_key("np_" + "a" * 10 + "_" + "b" * 38)
