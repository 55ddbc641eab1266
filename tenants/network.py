"""The caller's address behind the TLS proxy, and the source networks anomaly detection compares."""

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """The client's IP: REMOTE_ADDR, or the last X-Forwarded-For hop added by a trusted proxy.

    Only proxies listed in TRUSTED_PROXY_IPS may speak for the client; anything a client writes
    into X-Forwarded-For itself sits to the left of what our proxy appends and is ignored.
    """
    remote = _valid_ip(request.META.get("REMOTE_ADDR", ""))
    if remote is None or not _is_trusted_proxy(remote):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [part.strip() for part in forwarded.split(",") if part.strip()]
    for hop in reversed(hops):
        address = _valid_ip(hop)
        if address is None:
            return remote  # a garbled chain: trust nothing the proxy did not vouch for
        if not _is_trusted_proxy(address) or "*" in settings.TRUSTED_PROXY_IPS:
            return address  # with "*" only the nearest hop, the one our proxy added, counts
    return remote


def _is_trusted_proxy(address: str) -> bool:
    trusted = settings.TRUSTED_PROXY_IPS
    if "*" in trusted:
        return True
    ip = ipaddress.ip_address(address)
    for entry in trusted:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def source_network(ip: str | None) -> str | None:
    """The network a request comes from: /24 for IPv4, /48 for IPv6 (e.g. '203.0.113.0/24')."""
    address = _valid_ip(ip or "")
    if address is None:
        return None
    prefix = 24 if ipaddress.ip_address(address).version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def rate_limit_address(ip: str | None) -> str:
    """The unit limited per source: one IPv4 address, or one IPv6 /64 (what one host owns)."""
    address = _valid_ip(ip or "")
    if address is None:
        return "unknown"
    if ipaddress.ip_address(address).version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return address


def _valid_ip(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None
