"""Bearer API-key authentication for the REST API."""

from dataclasses import dataclass

from rest_framework import authentication, exceptions

from tenants import selectors
from tenants.keys import parse_key, secret_matches
from tenants.models import ApiKey, Tenant


@dataclass(frozen=True)
class ApiClient:
    """The authenticated caller: one Meal Planner application's key. `request.user` in the API."""

    api_key: ApiKey

    is_authenticated = True
    is_anonymous = False

    @property
    def tenant(self) -> Tenant:
        return self.api_key.tenant

    def __str__(self) -> str:
        return f"api-key:{self.api_key.prefix}"


def _failed(message: str = "Invalid API key.") -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed(message)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer np_...`; every failure is a 401 that says as little as it can."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request)
        if not header:
            return None
        try:
            scheme, raw_key = header.decode("ascii").split()
        except (UnicodeDecodeError, ValueError):
            raise _failed("Malformed Authorization header; use 'Bearer <key>'.") from None
        if scheme.lower() != self.keyword.lower():
            raise _failed("Malformed Authorization header; use 'Bearer <key>'.")
        parsed = parse_key(raw_key)
        if parsed is None:
            raise _failed("Malformed API key.")  # refused without a database read
        api_key = selectors.api_key_by_prefix(prefix=parsed.prefix)
        if api_key is None or not secret_matches(parsed.secret, api_key.secret_hash):
            raise _failed()
        if not api_key.is_usable():
            raise _failed("This API key is expired, revoked or suspended.")
        selectors.api_key_note_use(api_key=api_key, ip=_client_ip(request))
        return ApiClient(api_key=api_key), api_key

    def authenticate_header(self, request) -> str:
        return self.keyword


def _client_ip(request) -> str | None:
    # The TLS proxy is trusted by gunicorn (forwarded_allow_ips) and sets REMOTE_ADDR.
    return request.META.get("REMOTE_ADDR") or None
