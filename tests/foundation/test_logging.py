"""Secrets and e-mail addresses never reach a log record, whichever way they are logged."""

import json
import logging

import pytest

from nutrition_pro.logging import JsonFormatter

logger = logging.getLogger("tests.logging")

KEY = "np_abcdefghij_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345abcdef"


@pytest.mark.parametrize(
    ("message", "args", "secret"),
    [
        ("key %s used", (KEY,), KEY),
        ("header Authorization: Bearer %s", ("sk-live-0123456789abcdefXYZ",), "0123456789abcdef"),
        ("user %s signed in", ("dana.alpha@example.com",), "dana.alpha@example.com"),
        ("payload %r", ({"password": "hunter2hunter2"},), "hunter2hunter2"),
        ("openai key sk-proj-abcdefghijklmnopqrstuvwx in config", (), "abcdefghijklmnopqrstuvwx"),
    ],
)
def test_the_record_is_redacted_where_it_is_born(caplog, message, args, secret):
    with caplog.at_level(logging.INFO, logger="tests.logging"):
        logger.info(message, *args)
    record = caplog.records[-1]
    assert secret not in record.getMessage()
    assert "[REDACTED]" in record.getMessage() or "[EMAIL]" in record.getMessage()


def test_json_lines_carry_the_request_id_and_no_secret(api_a, caplog):
    with caplog.at_level(logging.INFO, logger="tests.logging"):
        logger.info("mail to %s", "x@example.org")
    line = JsonFormatter().format(caplog.records[-1])
    payload = json.loads(line)
    assert payload["message"] == "mail to [EMAIL]"
    assert payload["level"] == "INFO"
    assert "request_id" in payload


def test_exception_text_is_redacted_too(caplog):
    with caplog.at_level(logging.ERROR, logger="tests.logging"):
        try:
            raise ValueError(f"bad key {KEY}")
        except ValueError:
            logger.exception("failed")
    line = JsonFormatter().format(caplog.records[-1])
    assert KEY not in line and "np_[REDACTED]" in line
