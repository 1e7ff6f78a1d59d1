"""All settings, read from the environment in this one place.

Development and production share this code path; `config.settings_production`
only tightens the transport-security switches on top of it. Every variable is
listed with its default in the README's configuration table.
"""

import socket
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env(
    "SECRET_KEY", default="dev-only-insecure-key-change-me-for-any-real-deployment-0000"
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "auditlog",
    "django_htmx",
    "csp",
    "pgtrigger",
    "org",
    "outbox",
    "inventory",
    "events",
    "ssp",
    "referrals",
    "reports",
]

MIDDLEWARE = [
    # Outermost: background jobs committed by the request are published after its response.
    "outbox.middleware.JobsAfterResponseMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the body: oversized and unparseable API bodies get JSON errors.
    "org.middleware.ApiBodyGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's language until someone signs in; then theirs (org.middleware).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "org.middleware.StaffLanguageMiddleware",
    "org.middleware.AbsoluteSessionTimeoutMiddleware",
    "org.middleware.LoginRequiredMiddleware",
    "org.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    # Last, so lock-outs see the final response of a failed login.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "org.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.template.context_processors.i18n",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "org.context_processors.navigation",
                "org.context_processors.help_link",
                "org.context_processors.js_strings",
            ],
        },
    },
]

# Embedded default: a SQLite file under var/. Production and CI: PostgreSQL.
# Web, worker and beat connect as DATABASE_URL's role. The tables' owner,
# MIGRATE_DATABASE_URL, is the `owner` alias (`manage.py db_roles` grants from it), and
# DATABASE_AS_OWNER=true makes it the default connection for `migrate` and `flush`.
# Unset, both are one connection: SQLite or a one-role setup (docs/operations.md).
_database_url = env("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'ssp.sqlite3'}")
_owner_url = env("MIGRATE_DATABASE_URL", default=_database_url)
DATABASES = {
    "default": env.db_url_config(
        _owner_url if env.bool("DATABASE_AS_OWNER", False) else _database_url
    ),
    "owner": env.db_url_config(_owner_url),
}
for _db in DATABASES.values():
    _db["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=0)
    _db.setdefault("OPTIONS", {})
    if _db["ENGINE"] == "django.db.backends.sqlite3":
        # Web, worker and beat share the file on a first run: wait for locks, not fail.
        _db["OPTIONS"].setdefault("timeout", 20)
        _db["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The tests' database is a file beside it, not SQLite's shared in-memory one: a real
    # Celery worker (a thread of the test process) writes to it at the same time as the
    # test, and only a file waits for a lock (the timeout above) instead of failing.
    DATABASES["default"].setdefault("TEST", {}).setdefault(
        "NAME", str(Path(DATABASES["default"]["NAME"]).with_suffix(".test.sqlite3"))
    )
# The owner alias is the same database under other credentials: tests use `default`.
DATABASES["owner"]["TEST"] = {"MIRROR": "default"}
# What the app role may do per table (`manage.py db_roles`); unlisted: SELECT, INSERT, UPDATE.
# Survey answers are never corrected: the app may add them, not change or remove them.
DB_APP_APPEND_ONLY = [
    "inventory.StockMovement",
    "auditlog.LogEntry",
    "admin.LogEntry",
    "ssp.SurveyResponse",
    "ssp.SurveyAnswer",
]
DB_APP_READ_ONLY_TABLES = ["django_migrations"]
# Only where the app or its admin really removes rows (many-to-many links are added).
DB_APP_DELETES = [
    "sessions.Session",  # logout, clearsessions
    "authtoken.Token",  # token revoked or replaced
    "axes.AccessAttempt",  # a successful login resets the failures
    "axes.AccessFailureLog",
    "axes.AccessLog",
    "outbox.OutboxJob",  # prune_outbox; a job replaced before it was sent
    "ssp.VisitSupply",  # a visit's lines replaced when it is corrected
    "inventory.AlertRecheck",  # a re-check mark, removed when its check or a full scan runs
    # Reference data an admin may delete while nothing points at it (PROTECT otherwise).
    "auth.Group",
    "org.Site",
    "org.User",
    "inventory.Item",
    "inventory.PackSize",
    "inventory.Kit",
    "inventory.KitComponent",
    "inventory.Location",
    "inventory.FundingSource",
    "ssp.Participant",
    "referrals.ReferralType",
    "referrals.Partner",
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "org.backends.CapabilityBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Shared front-desk computers: 30 minutes idle, 12 hours at the most.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_SECONDS", default=12 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True

# django-axes: lock a username+address pair out after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "en"
# Staff choose theirs on the account page (org.User.language). Funder reports stay in
# English whatever the page around them is in (reports.services).
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("PROGRAM_TIME_ZONE", default="America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "media/"
# Served files are only reachable through the app's own login-checked download views.
WHITENOISE_USE_FINDERS = True

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="ssp@localhost")
SITE_BASE_URL = env("SITE_BASE_URL", default="http://127.0.0.1:8000")

# Content-Security-Policy: no inline script or style anywhere; every asset is vendored.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- API ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token requests are attributed in the audit trail too (auditlog sees sessions
        # only). First, so a refused token (expired, revoked) answers 401 with a
        # WWW-Authenticate header: DRF takes it from the first class.
        "org.authentication.AuditedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "org.api_errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Depth, number range and control characters checked before any serializer.
    "DEFAULT_PARSER_CLASSES": [
        "org.parsers.JSONParser",
        "org.parsers.FormParser",
        "org.parsers.MultiPartParser",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Also the API's body limit: larger bodies get a 413 with the API's error body.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)
SPECTACULAR_SETTINGS = {
    "TITLE": "SSP intake and inventory API",
    "DESCRIPTION": "Visits, supplies, stock, referrals and funder reports for syringe services "
    "programs.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "org.api_schema.document_errors",
    ],
    # One name per choice set used under several field names.
    "ENUM_NAME_OVERRIDES": {
        "ReferralStatusEnum": "referrals.models.ReferralStatus",
        "MovementKindEnum": "inventory.models.MovementKind",
        "LocationKindEnum": "inventory.models.LocationKind",
        "AdjustmentReasonEnum": "inventory.models.AdjustmentReason",
        "StockStatusEnum": "inventory.selectors.STOCK_STATUS_CHOICES",
        "ReportStatusEnum": "reports.models.ReportStatus",
        "VoidReasonEnum": "ssp.models.VoidReason",
        "MergeReasonEnum": "ssp.models.MergeReason",
        "EventKindEnum": "events.models.EventKind",
        "EventVoidReasonEnum": "events.models.EventVoidReason",
    },
}

# --- Celery ------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")


def _redis_answers(url: str) -> bool:
    parts = urlparse(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 0.3):
            return True
    except OSError:
        return False


# Where no Redis answers (a first run on a bare machine) jobs run in-process;
# `org.apps` says so once at start. USE_CELERY_WORKER=true/false forces the choice.
USE_CELERY_WORKER = env.bool("USE_CELERY_WORKER", default=None)
if USE_CELERY_WORKER is None:
    USE_CELERY_WORKER = _redis_answers(REDIS_URL)

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = not USE_CELERY_WORKER
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT * 5 // 6
# A job whose worker died (no ack) goes back to the queue after this many seconds.
# Above the task time limit, so a slow report is not handed to a second worker and a
# report left "running" by a dead worker is stale (claimable) when its job returns.
visibility_timeout = env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 60 * 60)
if visibility_timeout <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured("CELERY_VISIBILITY_TIMEOUT must exceed CELERY_TASK_TIME_LIMIT.")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": visibility_timeout,
    # Look for abandoned jobs every few seconds (kombu's default sweeps every ~100 s).
    "unacked_restore_interval": min(10, max(1, visibility_timeout // 5)),
    "unacked_restore_throttle": 1,
}
# An outbox job published this long ago and still not done is taken as lost by Redis
# (a restart without persistence, a flush) and published again by the relay. It must
# exceed the longest a delivered job may take to finish: its wait in the queue, its run
# (up to CELERY_TASK_TIME_LIMIT) and its own retries; twice the limit leaves room for a
# report queued behind another. Too short only wastes work (tasks are idempotent, so a
# duplicate is harmless); too long only delays a lost job.
OUTBOX_REDELIVER_SECONDS = env.int("OUTBOX_REDELIVER_SECONDS", default=2 * CELERY_TASK_TIME_LIMIT)
if OUTBOX_REDELIVER_SECONDS <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured("OUTBOX_REDELIVER_SECONDS must exceed CELERY_TASK_TIME_LIMIT.")
# A stock write's alert re-check runs this long after the write that queued it; writes on
# the same location and item meanwhile are covered by it (inventory.services.common).
SSP_ALERT_RECHECK_DELAY_SECONDS = env.int("SSP_ALERT_RECHECK_DELAY_SECONDS", default=2)
CELERY_RESULT_EXPIRES = 7 * 24 * 60 * 60
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# One beat process; each capability adds its entries here.
CELERY_BEAT_SCHEDULE: dict = {
    "relay-outbox": {"task": "outbox.tasks.relay_outbox", "schedule": 60.0},
    "prune-outbox": {"task": "outbox.tasks.prune_outbox", "schedule": 24 * 60 * 60.0},
    # Stock alerts: every condition everywhere, then one digest email of what is new.
    "stock-alerts-scan": {
        "task": "inventory.tasks.alerts_scan",
        "schedule": env.int("SSP_ALERT_SCAN_MINUTES", default=60) * 60.0,
    },
    # A database backup every night (org/backups.py, docs/operations.md).
    "nightly-backup": {
        "task": "org.tasks.backup_database",
        "schedule": crontab(minute=30, hour=env.int("SSP_BACKUP_HOUR", default=3)),
    },
    # Funder reports: last month's, for every template, from 02:00 on the 1st
    # (CELERY_TIMEZONE). Every night, not only on the 1st: a beat message is not in the
    # outbox, so one lost with Redis's data is made good the next night; a run that finds
    # the month built adds nothing (docs/operations.md, "Jobs and Redis").
    "monthly-funder-reports": {
        "task": "reports.tasks.build_monthly_reports",
        "schedule": crontab(minute=0, hour=2),
    },
    # Quarterly and annual funder reports: last quarter's (and a year that closed with it),
    # every night for the same reason as the monthly ones.
    "quarterly-funder-reports": {
        "task": "reports.tasks.build_quarterly_reports",
        "schedule": crontab(minute=30, hour=2),
    },
    # Funder reports: last month's, re-counted daily; coordinators hear of a difference once.
    "recheck-funder-reports": {
        "task": "reports.tasks.recheck_last_month",
        "schedule": crontab(minute=30, hour=4),
    },
}

# The look-up rate limit (SSP_LOOKUP_RATE) counts in the default cache, so the cache is
# shared by every web process, or each gunicorn worker would grant its own budget:
# Redis when it is in use, else files under var/cache (the embedded setup runs on one
# machine; unlike the database cache there is no table to create and grant).
if USE_CELERY_WORKER:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "ssp-cache",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- The program's own settings (see README, "Configuration") -----------------------
# Small-cell suppression: a published count from 1 to threshold-1 is hidden.
SSP_SUPPRESSION_THRESHOLD = env.int("SSP_SUPPRESSION_THRESHOLD", default=11)
# First month of the program's fiscal year (7: July–June, California's state fiscal year).
SSP_FISCAL_YEAR_START_MONTH = env.int("SSP_FISCAL_YEAR_START_MONTH", default=7)
# How far back a visit may be dated, and how long its author may still correct it.
SSP_VISIT_BACKDATE_DAYS = env.int("SSP_VISIT_BACKDATE_DAYS", default=7)
SSP_VISIT_EDIT_HOURS = env.int("SSP_VISIT_EDIT_HOURS", default=24)
# An API token works this many hours after it was made, like the absolute session.
SSP_TOKEN_HOURS = env.int("SSP_TOKEN_HOURS", default=12)
# A supply line above this many units asks staff to confirm.
SSP_LARGE_QUANTITY = env.int("SSP_LARGE_QUANTITY", default=500)
# A supply line beyond what the books hold: "record" saves the visit and records the
# shortfall as stock found at dispense (and asks for a count); "refuse" refuses the visit.
SSP_STOCK_SHORTFALL = env.str("SSP_STOCK_SHORTFALL", default="record")
if SSP_STOCK_SHORTFALL not in ("record", "refuse"):
    raise ImproperlyConfigured(f"SSP_STOCK_SHORTFALL={SSP_STOCK_SHORTFALL!r}: record or refuse.")
# Participant code recipe: parts in order, see ssp/codes.py.
SSP_CODE_RECIPE = env.list(
    "SSP_CODE_RECIPE", default=["mother_first_name:2", "own_first_name:2", "birth_year", "gender"]
)
# The gender letters a code may end with and what they mean at this program, as
# "LETTER:label" (the part's choices on the "build the code" form and its validation).
SSP_GENDER_CHOICES = env.list(
    "SSP_GENDER_CHOICES",
    default=["F:Woman", "M:Man", "X:Trans / non-binary / two-spirit", "U:Not asked / declined"],
)
# The services a program gives at a visit (Ontario's minimum data set asks for them), as
# "code:KEY:label": the code is stored and reported, KEY is the one-letter key that
# toggles it at the front desk (ssp/visit_services.py refuses a key already taken).
SSP_VISIT_SERVICES = env.list(
    "SSP_VISIT_SERVICES",
    default=[
        "counselling:C:Counselling",
        "wound_care:W:Wound care",
        "hiv_test:H:HIV test",
        "hcv_test:E:HCV test",
        "vaccination:V:Vaccination",
        "education:I:Education",
        "naloxone_training:T:Naloxone training given",
        "drug_checking:K:Drug checking done",
        "other:X:Other service",
    ],
)
# Code look-ups per person (API, intake panel, participant search), shared by all three:
# a brute-force scan of codes meets a 429. "<count>/<s|min|hour|day>".
SSP_LOOKUP_RATE = env.str("SSP_LOOKUP_RATE", default="120/min")
_lookup_count, _, _lookup_period = SSP_LOOKUP_RATE.partition("/")
if not (_lookup_count.isdigit() and _lookup_period in {"s", "sec", "min", "hour", "day"}):
    raise ImproperlyConfigured(f"SSP_LOOKUP_RATE={SSP_LOOKUP_RATE!r}: write e.g. 120/min.")
# The offline app keeps on the device the codes with a visit at the person's own sites
# in this many days (codes only), for near-match suggestions without a connection.
SSP_DEVICE_CODES_DAYS = env.int("SSP_DEVICE_CODES_DAYS", default=365)
# Sharps bins emptied at kiosks are weighed; this converts weight to syringes.
SSP_SYRINGES_PER_POUND = env.int("SSP_SYRINGES_PER_POUND", default=280)
# Program events (clean-ups, needle-stick injuries, bins emptied) are often written up
# from a paper log at the end of the month: they may be dated this many days back.
SSP_EVENT_BACKDATE_DAYS = env.int("SSP_EVENT_BACKDATE_DAYS", default=31)
# Referrals: days until staff should ask whether the person was linked.
SSP_REFERRAL_FOLLOW_UP_DAYS = env.int("SSP_REFERRAL_FOLLOW_UP_DAYS", default=30)
# ...and how far "not yet" at the desk pushes the next ask out.
SSP_REFERRAL_NOT_YET_DAYS = env.int("SSP_REFERRAL_NOT_YET_DAYS", default=14)
# Stock bands in months of stock, from the average monthly consumption of 90 days.
SSP_STOCK_EMERGENCY_MONTHS = env.float("SSP_STOCK_EMERGENCY_MONTHS", default=0.5)
SSP_STOCK_UNDERSTOCK_MONTHS = env.float("SSP_STOCK_UNDERSTOCK_MONTHS", default=1.5)
SSP_STOCK_OVERSTOCK_MONTHS = env.float("SSP_STOCK_OVERSTOCK_MONTHS", default=3.0)
# Alerts: projected stock-out and expiry look-ahead windows, count discrepancy threshold.
SSP_ALERT_STOCKOUT_DAYS = env.int("SSP_ALERT_STOCKOUT_DAYS", default=14)
SSP_ALERT_EXPIRY_DAYS = env.int("SSP_ALERT_EXPIRY_DAYS", default=60)
SSP_ALERT_COUNT_DISCREPANCY = env.int("SSP_ALERT_COUNT_DISCREPANCY", default=10)
# Physical counts: the sheet hides what the books say until the count is entered, so
# the figure on the shelf is counted rather than confirmed.
SSP_BLIND_COUNT = env.bool("SSP_BLIND_COUNT", default=True)
# A location not counted for this many days shows as "count due" on the manager's home.
SSP_COUNT_DUE_DAYS = env.int("SSP_COUNT_DUE_DAYS", default=30)

# Backups: where the nightly dump goes, how many days of them stay, which pg_dump.
SSP_BACKUP_DIR = Path(env("SSP_BACKUP_DIR", default=str(VAR_DIR / "backups")))
SSP_BACKUP_KEEP_DAYS = env.int("SSP_BACKUP_KEEP_DAYS", default=14)
SSP_PG_DUMP = env("SSP_PG_DUMP", default="pg_dump")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# --- Audit trail (django-auditlog) ------------------------------------------------
# Every model is tracked unless listed here. The stock ledger is excluded because it
# is itself the append-only, attributed record (and bulk-written); sessions, tokens
# and library bookkeeping carry nothing staff create; a period's suppression set is the
# program's own bookkeeping of what it has released (derived from attributed snapshots
# and dashboard reads, rewritten on each release, and holding unsuppressed counts).
AUDITLOG_INCLUDE_ALL_MODELS = True
AUDITLOG_EXCLUDE_TRACKING_MODELS = (
    "admin",
    "sessions",
    "contenttypes",
    "axes",
    "auditlog",
    "authtoken",
    "outbox",
    "inventory.stockmovement",
    "inventory.stockbalance",
    "reports.periodsuppression",
    # Survey answers are anonymous: an audit entry would tie them to a time and a
    # person (docs/privacy.md). The survey definitions and the offers are tracked.
    "ssp.surveyresponse",
    "ssp.surveyanswer",
)
AUDITLOG_EXCLUDE_TRACKING_FIELDS = ("password", "last_login")
AUDITLOG_STORE_JSON_CHANGES = True
