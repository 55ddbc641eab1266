"""The caller's address: X-Forwarded-For counts only when our own proxy added it."""

import pytest
from django.test import RequestFactory

from tenants.network import client_ip, rate_limit_address, source_network


@pytest.fixture
def proxy(settings):
    settings.TRUSTED_PROXY_IPS = ["10.0.0.10"]


def _request(remote, forwarded=None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


def test_a_direct_clients_forwarded_header_is_ignored(proxy):
    assert client_ip(_request("198.51.100.7", "1.2.3.4")) == "198.51.100.7"


def test_the_proxy_speaks_for_the_client(proxy):
    assert client_ip(_request("10.0.0.10", "198.51.100.7")) == "198.51.100.7"


def test_a_spoofed_hop_before_the_proxys_is_ignored(proxy):
    assert client_ip(_request("10.0.0.10", "6.6.6.6, 198.51.100.7")) == "198.51.100.7"


def test_a_garbled_chain_falls_back_to_the_proxy(proxy):
    assert client_ip(_request("10.0.0.10", "not-an-ip")) == "10.0.0.10"


def test_networks_are_slash_24_and_slash_48():
    assert source_network("203.0.113.77") == "203.0.113.0/24"
    assert source_network("2001:db8:aa:bb::1") == "2001:db8:aa::/48"
    assert source_network("garbage") is None


def test_ipv6_failures_are_counted_per_slash_64():
    assert rate_limit_address("2001:db8:1:2:3::9") == "2001:db8:1:2::"
    assert rate_limit_address("198.51.100.7") == "198.51.100.7"
