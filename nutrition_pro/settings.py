"""Settings for every environment, read from the environment (see .env.example).

Development (DJANGO_DEBUG=true) fills missing secrets from a generated, git-ignored
file so `make run` works on a fresh machine. Production (the default) refuses to
start on a missing or development secret.
"""

import json
import secrets
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from nutrition_pro.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DEBUG = env_bool("DJANGO_DEBUG", default=False)

# --- secrets -----------------------------------------------------------------

DEV_SECRETS_FILE = BASE_DIR / "var" / "dev-secrets.json"
DEV_SECRET_MARKER = "dev-only-"  # noqa: S105 (a marker, not a secret)


def _dev_secrets() -> dict[str, str]:
    """Per-checkout development secrets, generated once and never used in production."""
    if DEV_SECRETS_FILE.exists():
        return json.loads(DEV_SECRETS_FILE.read_text())
    values = {
        "DJANGO_SECRET_KEY": DEV_SECRET_MARKER + secrets.token_urlsafe(48),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "API_KEY_PEPPER": DEV_SECRET_MARKER + secrets.token_urlsafe(32),
    }
    DEV_SECRETS_FILE.parent.mkdir(parents=True, exist_ok=True)
    DEV_SECRETS_FILE.write_text(json.dumps(values))
    DEV_SECRETS_FILE.chmod(0o600)
    return values


def _secret(name: str, *, min_length: int = 32) -> str:
    value = env_str(name)
    if DEBUG:
        return value or _dev_secrets()[name]
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in production (DJANGO_DEBUG is off).")
    if value.startswith((DEV_SECRET_MARKER, "django-insecure")) or len(value) < min_length:
        raise ImproperlyConfigured(f"{name} holds a development or too short value.")
    return value


SECRET_KEY = _secret("DJANGO_SECRET_KEY", min_length=50)
API_KEY_PEPPER = _secret("API_KEY_PEPPER")
FIELD_ENCRYPTION_KEYS = [k for k in _secret("FIELD_ENCRYPTION_KEYS").split(",") if k.strip()]
for _key in FIELD_ENCRYPTION_KEYS:
    try:
        Fernet(_key.strip())
    except ValueError:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be comma-separated Fernet keys."
        ) from None

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set in production.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# --- applications --------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "auditlog",
    "nutrition_pro",
    "tenants",
    "content",
    "billing",
    "llm",
]

MIDDLEWARE = [
    "nutrition_pro.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "nutrition_pro.middleware.ApiRequestGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
]

ROOT_URLCONF = "nutrition_pro.urls"
WSGI_APPLICATION = "nutrition_pro.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# --- data stores ---------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "np"),
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery (nutrition_pro/celery.py reads these with the CELERY_ namespace) ---------

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
# Without a broker (make run), tasks run in-process when they are sent.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
# An LLM call is slow and must not be lost when a worker dies mid-task.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 120)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 150)
# Threads suit I/O-bound provider calls: dozens in flight per host, not one per core.
CELERY_WORKER_POOL = env_str("CELERY_WORKER_POOL", "threads")
# Threads per worker process. Run two worker processes per core: their threads share one
# GIL, and two processes per core use the cores better than one with twice the threads
# (docs/llm-pipeline.md, "Measuring").
CELERY_WORKER_CONCURRENCY = env_int("CELERY_WORKER_CONCURRENCY", 32)
# Must exceed the longest task, or Redis hands an unacknowledged task to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 600),
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "default")
CELERY_BEAT_SCHEDULE: dict = {}

# --- authentication and sessions ---------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/portal/login/"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# --- HTTP security ---------------------------------------------------------------

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = 0 if DEBUG else env_int("SECURE_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Django refuses larger non-file bodies; API bodies are checked before parsing
# (nutrition_pro.middleware.ApiRequestGuardMiddleware) and answer 413 in the envelope.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 256 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES

# --- REST API ----------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tenants.authentication.ApiKeyAuthentication"],
    # Deny by default: a view is reachable only once it declares its scope.
    "DEFAULT_PERMISSION_CLASSES": ["tenants.permissions.ScopePermission"],
    "DEFAULT_PARSER_CLASSES": ["nutrition_pro.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "nutrition_pro.pagination.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "nutrition_pro.exceptions.envelope_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "nutrition_pro.schema.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "AI Nutrition-Pro API",
    "DESCRIPTION": "Nutrition content written in your dietitians' own voice.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema and its UI are public documentation: no key needed.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Several models have a `kind` or a `status`: name each choice set after its owner
    # (check --deploy fails on the collision warning otherwise).
    "ENUM_NAME_OVERRIDES": {
        "SampleKindEnum": "content.models.SampleKind",
        "GenerationKindEnum": "llm.models.GenerationKind",
        "GenerationStatusEnum": "llm.models.GenerationRequest.Status",
        "InvoiceKindEnum": "billing.models.Invoice.Kind",
        "InvoiceLineKindEnum": "billing.models.InvoiceLine.Kind",
    },
}

# --- LLM provider ----------------------------------------------------------------------

OPENAI_API_KEY = env_str("OPENAI_API_KEY")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL") or None
OPENAI_MODEL = env_str("OPENAI_MODEL", "gpt-4o-mini")
LLM_PROVIDER = env_str("LLM_PROVIDER", "openai" if OPENAI_API_KEY else "offline")
if LLM_PROVIDER not in {"openai", "offline"}:
    raise ImproperlyConfigured("LLM_PROVIDER must be 'openai' or 'offline'.")

# --- llm: generation pipeline (issue 5; docs/llm-pipeline.md) ---------------------------


def _env_float(name: str, default: float) -> float:
    raw = env_str(name)
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None


# One provider call: an explicit timeout and an output cap (the SDK's defaults are 600 s, none).
LLM_TIMEOUT_SECONDS = _env_float("LLM_TIMEOUT_SECONDS", 30.0)
LLM_MAX_OUTPUT_TOKENS = env_int("LLM_MAX_OUTPUT_TOKENS", 800)
LLM_MODERATION_MODEL = env_str("LLM_MODERATION_MODEL", "omni-moderation-latest")
# Retries inside one attempt (429/5xx/timeouts): exponential backoff with full jitter, and
# Retry-After honoured up to LLM_RETRY_MAX_DELAY; a longer wait goes back to the queue.
LLM_MAX_RETRIES = env_int("LLM_MAX_RETRIES", 2)
LLM_RETRY_BASE_DELAY = _env_float("LLM_RETRY_BASE_DELAY", 0.5)
LLM_RETRY_MAX_DELAY = _env_float("LLM_RETRY_MAX_DELAY", 8.0)
# Attempts of a generation (task deliveries that reach the provider step) before it fails.
LLM_MAX_ATTEMPTS = env_int("LLM_MAX_ATTEMPTS", 5)
LLM_REQUEUE_BASE_SECONDS = _env_float("LLM_REQUEUE_BASE_SECONDS", 5.0)
LLM_REQUEUE_MAX_SECONDS = _env_float("LLM_REQUEUE_MAX_SECONDS", 120.0)
# Circuit breaker, shared by every worker through the cache (Redis).
LLM_CIRCUIT_FAILURE_THRESHOLD = env_int("LLM_CIRCUIT_FAILURE_THRESHOLD", 5)
LLM_CIRCUIT_WINDOW_SECONDS = env_int("LLM_CIRCUIT_WINDOW_SECONDS", 60)
LLM_CIRCUIT_OPEN_SECONDS = _env_float("LLM_CIRCUIT_OPEN_SECONDS", 30.0)
# Global cap on provider calls in flight (a Redis semaphore whose slots expire).
LLM_MAX_CONCURRENT_CALLS = env_int("LLM_MAX_CONCURRENT_CALLS", 256)
LLM_SLOT_TTL_SECONDS = _env_float("LLM_SLOT_TTL_SECONDS", 180.0)
LLM_SLOT_WAIT_SECONDS = _env_float("LLM_SLOT_WAIT_SECONDS", 2.0)
# A running generation is leased to one worker; a re-delivered task waits for the lease.
LLM_LEASE_SECONDS = _env_float("LLM_LEASE_SECONDS", float(CELERY_TASK_TIME_LIMIT))
# Nutrition safety: a daily target below this needs inputs.clinical_supervision.
LLM_MIN_DAILY_KCAL = env_int("LLM_MIN_DAILY_KCAL", 1200)
# Worker processes run dozens of threads; with DB_POOL_MAX_SIZE set (for workers, e.g. 10)
# they share that many PostgreSQL connections (Django's psycopg pool) instead of holding one
# persistent connection per thread, which would exhaust max_connections.
DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 0)
if DB_POOL_MAX_SIZE and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": 30,
    }
# How often a worker looks for tasks whose worker died unacknowledged (kombu's defaults give
# 100 s; only a low CELERY_VISIBILITY_TIMEOUT, as in tests, needs a faster sweep).
CELERY_BROKER_TRANSPORT_OPTIONS["unacked_restore_interval"] = env_int(
    "CELERY_UNACKED_RESTORE_INTERVAL", 10
)
CELERY_BROKER_TRANSPORT_OPTIONS["unacked_restore_throttle"] = env_int(
    "CELERY_UNACKED_RESTORE_THROTTLE", 10
)
CELERY_BEAT_SCHEDULE["llm-purge-expired-content"] = {
    "task": "llm.tasks.generation_purge_expired_task",
    "schedule": env_int("LLM_PURGE_INTERVAL_SECONDS", 3600),
}
# A safety net for lost task messages (a Redis restart): requests left queued or running
# with an expired lease are sent to the queue again (a duplicate delivery is harmless).
LLM_STALE_AFTER_SECONDS = env_int("LLM_STALE_AFTER_SECONDS", 600)
CELERY_BEAT_SCHEDULE["llm-requeue-stale"] = {
    "task": "llm.tasks.generation_requeue_stale_task",
    "schedule": 300,
}

# --- e-mail ----------------------------------------------------------------------------

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "AI Nutrition-Pro <noreply@localhost>")
ADMINS = [("Operators", address) for address in env_list("ADMIN_EMAILS")]

# --- static files, i18n --------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- logging -------------------------------------------------------------------------

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "nutrition_pro.logging.RequestIdFilter"},
        "redact": {"()": "nutrition_pro.logging.SecretRedactingFilter"},
    },
    "formatters": {"json": {"()": "nutrition_pro.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "WARNING"},
        # Celery's "received" and "succeeded" lines for every task: at dozens of tasks a
        # second they cost workers CPU and say less than the pipeline's own line per
        # generation (which also logs its waits and retries). Task failures still log.
        "celery.app.trace": {"level": env_str("CELERY_TASK_LOG_LEVEL", "WARNING")},
        "celery.worker.strategy": {"level": env_str("CELERY_TASK_LOG_LEVEL", "WARNING")},
        # The HTTP client under the openai SDK logs every request at INFO; the provider
        # client logs the failures that matter itself.
        "httpx": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
    },
}

# --- tenants: API keys, rate limits, key anomaly detection (issue 3) -------------------------

# Per-key and per-tenant limits (django-ratelimit windows, one Redis pipeline per request).
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = ["tenants.throttling.ApiKeyRateThrottle"]
# Proxies whose X-Forwarded-For names the client (the same list gunicorn trusts).
TRUSTED_PROXY_IPS = env_list("FORWARDED_ALLOW_IPS", ["127.0.0.1"])
# Each process re-reads the key epoch at most this often: revocation reaches it within this.
API_KEY_EPOCH_CHECK_SECONDS = env_int("API_KEY_EPOCH_CHECK_MS", 1000) / 1000
# Failed authentications per source address per minute before it gets 429 for a while.
API_AUTH_FAILURES_PER_MINUTE = env_int("API_AUTH_FAILURES_PER_MINUTE", 20)
KEY_ANOMALY_WINDOW_MINUTES = env_int("KEY_ANOMALY_WINDOW_MINUTES", 5)
KEY_ANOMALY_SPIKE_FACTOR = env_int("KEY_ANOMALY_SPIKE_FACTOR", 10)
KEY_ANOMALY_SPIKE_MIN_PER_MINUTE = env_int("KEY_ANOMALY_SPIKE_MIN_PER_MINUTE", 20)
KEY_ANOMALY_LEARNING_HOURS = env_int("KEY_ANOMALY_LEARNING_HOURS", 24)
CELERY_BEAT_SCHEDULE["tenants-detect-key-anomalies"] = {
    "task": "tenants.detect_key_anomalies",
    "schedule": 60.0,
}

# --- billing (issue 6) -----------------------------------------------------------------

from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE["billing-issue-invoices"] = {
    # 02:30 UTC on the 1st: the month just closed, once its last calls have settled.
    "task": "billing.issue_invoices_for_last_month",
    "schedule": crontab(minute=30, hour=2, day_of_month=1),
}
CELERY_BEAT_SCHEDULE["billing-release-stale-reservations"] = {
    "task": "billing.release_stale_reservations",
    "schedule": 15 * 60.0,
}

# --- control plane (issue 7): admin site, MFA, audit, sign-in hardening -------------------

# The default admin site is the MFA-only control plane (nutrition_pro.admin_site).
INSTALLED_APPS[INSTALLED_APPS.index("django.contrib.admin")] = (
    "nutrition_pro.apps.ControlPlaneAdminConfig"
)
# otp_static keeps backup tokens in plain text; nutrition_pro.BackupCodeDevice hashes them.
INSTALLED_APPS.remove("django_otp.plugins.otp_static")
MIDDLEWARE[MIDDLEWARE.index("auditlog.middleware.AuditlogMiddleware")] = (
    "nutrition_pro.audit.AuditMiddleware"
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django_otp.middleware.OTPMiddleware") + 1,
    "nutrition_pro.signin.IdleSessionMiddleware",
)
LOGIN_REDIRECT_URL = "/portal/"
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "AI Nutrition-Pro")
SIGNIN_RATE_PER_IP = env_str("SIGNIN_RATE_PER_IP", "30/5m")
SIGNIN_RATE_PER_USERNAME = env_str("SIGNIN_RATE_PER_USERNAME", "10/5m")
SIGNIN_LOCKOUT_THRESHOLD = env_int("SIGNIN_LOCKOUT_THRESHOLD", 5)
SIGNIN_LOCKOUT_WINDOW_SECONDS = env_int("SIGNIN_LOCKOUT_WINDOW_SECONDS", 15 * 60)
SIGNIN_LOCKOUT_SECONDS = env_int("SIGNIN_LOCKOUT_SECONDS", 15 * 60)
SIGNIN_PENDING_SECONDS = 5 * 60
STAFF_SESSION_IDLE_SECONDS = env_int("STAFF_SESSION_IDLE_SECONDS", 15 * 60)
STAFF_SESSION_MAX_SECONDS = env_int("STAFF_SESSION_MAX_SECONDS", 8 * 3600)
CELERY_BEAT_SCHEDULE["nutrition-pro-purge-signin-lockouts"] = {
    "task": "nutrition_pro.purge_signin_lockouts",
    "schedule": 3600.0,
}
REAUTH_WINDOW_SECONDS = env_int("REAUTH_WINDOW_SECONDS", 5 * 60)
# One rule for "the client's address" (X-Forwarded-For only from TRUSTED_PROXY_IPS).
CLIENT_IP_FUNCTION = "tenants.network.client_ip"
AUDITLOG_DISABLE_REMOTE_ADDR = False
AUDITLOG_STORE_JSON_CHANGES = True
