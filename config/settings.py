"""Settings of the register portal.

Everything comes from the environment; an unset variable means the embedded default that lets
`make run` work on a bare machine: SQLite file in the project, Celery eager, local-memory cache,
console e-mail.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and os.environ.get("DJANGO_REQUIRE_SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set in production")
    # Only for the embedded development/test set-up; docker-compose.yml requires a real key.
    SECRET_KEY = "insecure-embedded-default-key-do-not-use-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "ninja",
    "accounts",
    "registry",
    "membership",
    "cards",
    "union_statistics",
    "discounts",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "accounts.security_headers.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages, so that a session ended for inactivity can say why on the login page.
    "accounts.middleware.SessionIdleTimeoutMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SecondFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that it sees the authenticated user and answers with the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Starting parallel workers costs ~20 ms, more than the small sorts of a page save; big report queries
    # (estimated cost well above this) still go parallel.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c parallel_setup_cost={os.environ.get('PG_PARALLEL_SETUP_COST', '20000')}"
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Brute-force protection: after AXES_FAILURE_LIMIT failures for one username from one address
# the pair is locked out for AXES_COOLOFF_TIME hours.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.5"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# A wrong second-factor code counts as a failed sign-in too (accounts/two_factor_services.py); never stored as typed.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]
AXES_CLIENT_IP_CALLABLE = "accounts.access.client_ip"

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Русский")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Moscow"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Uploads and vendor packages go only through Django's storage API, so the web process never needs a file that only
# a worker's disk holds: the media folder (shared by web and workers, as the docker-compose volume) by default, an
# S3-compatible object store (django-storages) when STORAGE_S3_BUCKET is set.
STORAGE_S3_BUCKET = os.environ.get("STORAGE_S3_BUCKET", "").strip()
default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
if STORAGE_S3_BUCKET:
    default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": STORAGE_S3_BUCKET,
            "endpoint_url": os.environ.get("STORAGE_S3_ENDPOINT") or None,
            "region_name": os.environ.get("STORAGE_S3_REGION") or None,
            "access_key": os.environ.get("STORAGE_S3_ACCESS_KEY") or None,
            "secret_key": os.environ.get("STORAGE_S3_SECRET_KEY") or None,
            "location": os.environ.get("STORAGE_S3_PREFIX", ""),
            # "path" for stores that do not serve the bucket as a subdomain (MinIO and the like).
            "addressing_style": os.environ.get("STORAGE_S3_ADDRESSING_STYLE") or None,
            # Members' scans and packages are private: no public ACL, and names are never silently overwritten.
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
STORAGES = {
    "default": default_storage,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", False)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# `manage.py backup_create` writes each backup into a directory of its own here (README, «Резервные копии»).
BACKUP_DIR = Path(os.environ.get("BACKUP_DIR", BASE_DIR / "backups"))
# Where pg_dump and pg_restore are, when the ones on PATH are older than the server (e.g. /usr/lib/postgresql/16/bin).
PG_BIN_DIR = os.environ.get("PG_BIN_DIR", "").strip()

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    # Redis stopped: reads are misses and pages render from the database (registry/cache.py, README «Сбои»).
    CACHES = {
        "default": {
            "BACKEND": "registry.cache.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "personal-data-destruction": {
        "task": "membership.tasks.members_destroy_after_withdrawal",
        "schedule": 24 * 60 * 60,
    },
    "access-log-retention": {
        "task": "accounts.tasks.access_log_purge_expired",
        "schedule": 24 * 60 * 60,
    },
    # An upload still "being checked" or "being written" past its time limit was lost with its worker: marked failed.
    "membership-imports-fail-stuck": {
        "task": "membership.tasks.member_imports_fail_stuck",
        "schedule": 10 * 60,
    },
    # Card batches: a build nothing has moved for 30 minutes is marked failed; one the queue could not take (Redis
    # was down) is queued now.
    "cards-batches-watch": {
        "task": "cards.tasks.card_batches_watch",
        "schedule": 5 * 60,
    },
    # Snapshots of the dashboards, rebuilt every night at 03:00 (server time).
    "statistics-rollup-nightly": {
        "task": "union_statistics.tasks.rollup_nightly",
        "schedule": crontab(hour=3, minute=0),
    },
    # Reminders to chairs whose annual report is owed, every morning (each chair at most once a week).
    "statistics-campaign-reminders": {
        "task": "union_statistics.tasks.campaign_reminders_send",
        "schedule": crontab(hour=9, minute=0),
    },
    # Cashback whose hold period has ended is confirmed every hour.
    "discounts-cashback-confirm": {
        "task": "discounts.tasks.cashback_confirm",
        "schedule": crontab(minute=15),
    },
    # The previous month's payout register, formed on the 1st of each month at 06:00.
    "discounts-monthly-payout": {
        "task": "discounts.tasks.payout_monthly",
        "schedule": crontab(day_of_month=1, hour=6, minute=0),
    },
}
# 152-FZ logs are kept for this many days, then purged by the beat task above.
ACCESS_LOG_RETENTION_DAYS = int(os.environ.get("ACCESS_LOG_RETENTION_DAYS", str(3 * 365)))
# Rate limits, "<calls>/<seconds>": fixed windows counted in the cache (accounts/rate_limits.py); a call over one is
# answered 429 with Retry-After. The partner API's limit per key (discounts/api.py); sign-in attempts from one address,
# whatever the username; password-reset letters asked from one address and for one e-mail; the checks and purchases
# of one cashier.
DISCOUNTS_API_RATE_LIMIT = os.environ.get("DISCOUNTS_API_RATE_LIMIT", "600/60")
LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "30/300")
PASSWORD_RESET_RATE_LIMIT = os.environ.get("PASSWORD_RESET_RATE_LIMIT", "10/3600")
PASSWORD_RESET_EMAIL_RATE_LIMIT = os.environ.get("PASSWORD_RESET_EMAIL_RATE_LIMIT", "3/3600")
CASHIER_RATE_LIMIT = os.environ.get("CASHIER_RATE_LIMIT", "30/60")
# Cards per part of a vendor package: each part is rendered by one Celery worker (a chord), the last step streams
# the parts into the ZIP. Rounded up to a multiple of ten cards: only the last part may end on an A4 sheet not full.
CARD_BATCH_CHUNK_SIZE = int(os.environ.get("CARD_BATCH_CHUNK_SIZE", "1000"))
# The smallest confirmed cashback paid out in a monthly register, kopecks (100 ₽); less waits for the next month.
CASHBACK_PAYOUT_MINIMUM = int(os.environ.get("CASHBACK_PAYOUT_MINIMUM", "10000"))

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# The portal's address in e-mails sent by background tasks, which have no request to take it from.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Единый реестр <noreply@eseur.ru>")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 60 * 60
# A session of staff or a cashier ends after this many minutes without a request (accounts/middleware.py); the
# age above stays the absolute limit from sign-in. Members' sessions keep their installed card app: no idle limit.
SESSION_IDLE_TIMEOUT_MINUTES = int(os.environ.get("SESSION_IDLE_TIMEOUT_MINUTES", "30"))
# The name authenticator apps show beside the login; the admin shows no device keys or recovery codes.
OTP_TOTP_ISSUER = "Единый реестр"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Behind the HTTPS proxy of docker-compose: cookies only over HTTPS, plain HTTP redirected, HSTS for a year. The
# proxy must send X-Forwarded-Proto (README, «Продакшен»); the container's healthcheck sends it itself.
if env_bool("SECURE_COOKIES", False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 60 * 60)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if not env_bool("SECURE_HSTS_PRELOAD", False):
    # Entering the browsers' preload list is the domain owner's decision for the whole domain and every site on it,
    # made by submitting the domain and hard to undo; the portal does not announce it unless asked to.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
# How many reverse proxies in front of gunicorn append the client's address to X-Forwarded-For (docker-compose: 1,
# the HTTPS proxy). The client is that many entries from the right: what the access log, the login lock-out and the
# per-address rate limits see (accounts.access.client_ip). 0: REMOTE_ADDR, nobody in between.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

REGIONS_CSV = Path(os.environ.get("REGIONS_CSV", BASE_DIR / "registry" / "data" / "regions.csv"))

WHITENOISE_USE_FINDERS = not env_bool("STATIC_MANIFEST", False)
