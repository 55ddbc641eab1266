"""Bearer API-key authentication for the REST API.

Order of checks, cheapest first: the header's shape and the key's checksum (no I/O), the
process's cache of verified keys (no I/O in the steady state), then, for a key this process
has not verified, the per-source failure limit (one cache read) and the database. Every
failure is a 401 that says as little as it can and counts against the source address.
"""

from dataclasses import dataclass
from typing import NoReturn

from rest_framework import authentication, exceptions

from tenants import selectors
from tenants.keycache import verified_keys
from tenants.keys import parse_key, secret_matches
from tenants.models import ApiKey, Tenant
from tenants.throttling import auth_failure_record, auth_failures_block

BAD_HEADER = "Malformed Authorization header; use 'Bearer <key>'."
MALFORMED_KEY = "Malformed API key."
INVALID_KEY = "Invalid API key."
UNUSABLE_KEY = "This API key is expired, revoked or suspended."


@dataclass(frozen=True)
class ApiClient:
    """The authenticated caller: one Meal Planner application's key. `request.user` in the API."""

    api_key: ApiKey

    is_authenticated = True
    is_anonymous = False
    is_active = True

    @property
    def tenant(self) -> Tenant:
        return self.api_key.tenant

    @property
    def pk(self) -> str:
        return f"api-key:{self.api_key.prefix}"

    def __str__(self) -> str:
        return f"api-key:{self.api_key.prefix}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer np_...`; the tenant comes from the key and nowhere else."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request)
        if not header:
            return None
        try:
            scheme, raw_key = header.decode("ascii").split()
        except (UnicodeDecodeError, ValueError):
            self._fail(request, BAD_HEADER)
        if scheme.lower() != self.keyword.lower():
            self._fail(request, BAD_HEADER)
        parsed = parse_key(raw_key)
        if parsed is None:
            self._fail(request, MALFORMED_KEY)  # refused without a database read

        api_key = verified_keys.get(parsed.prefix)
        if api_key is None or not secret_matches(parsed.secret, api_key.secret_hash):
            api_key = self._verify_from_database(request, parsed)
        if not api_key.is_usable():
            self._fail(request, UNUSABLE_KEY)
        return ApiClient(api_key=api_key), api_key

    def _verify_from_database(self, request, parsed) -> ApiKey:
        wait = auth_failures_block(request)
        if wait is not None:
            raise exceptions.Throttled(wait=wait, detail="Too many failed authentications.")
        epoch = verified_keys.current_epoch()
        api_key = selectors.api_key_by_prefix(prefix=parsed.prefix)
        if api_key is None or not secret_matches(parsed.secret, api_key.secret_hash):
            self._fail(request, INVALID_KEY)
        verified_keys.put(api_key, loaded_under_epoch=epoch)
        return api_key

    def _fail(self, request, message: str) -> NoReturn:
        wait = auth_failure_record(request)
        if wait is not None:
            raise exceptions.Throttled(wait=wait, detail="Too many failed authentications.")
        raise exceptions.AuthenticationFailed(message)

    def authenticate_header(self, request) -> str:
        return self.keyword
