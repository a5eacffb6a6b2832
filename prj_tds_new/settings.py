"""Settings for TDS New, read from the environment (12-factor) with working local defaults.

Production is the default: DJANGO_DEBUG is off unless set (`make run`, `make test` and
the test suite turn it on), and then a real DJANGO_SECRET_KEY and an explicit
DJANGO_EMAIL_BACKEND are required. Nothing exists only in production settings.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from tds_core.installation import database_namespace

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off (the default: production)."
            " For development set DJANGO_DEBUG=on (make run and make test do)."
        )
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Where the Django admin is served (a less guessable path in production), with the slash.
ADMIN_URL = env.str("DJANGO_ADMIN_URL", default="admin/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "contas",
    "dispositivos",
    "telemetria",
    "ingestao",
    "certificados",
    "apitokens",
    "unidades",
    "faturamento",
    "alarmes",
    "notificacoes",
    "ninja",  # the alarm API's docs served from our static files (no CDN; CSP allows 'self' only)
    "axes",  # login brute-force lockout (after our apps: our templates win)
]

MIDDLEWARE = [
    "prj_tds_new.health.HealthMiddleware",  # /saude/vivo/ and /saude/pronto/, before all
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "contas.middleware.ActiveContaMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the pt-BR 429 page
]

ROOT_URLCONF = "prj_tds_new.urls"
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
                "contas.context_processors.active_conta",
                "alarmes.context_processors.alarmes",
            ],
        },
    },
]
ASGI_APPLICATION = "prj_tds_new.asgi.application"
WSGI_APPLICATION = "prj_tds_new.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/tds_new"),
}
# A connection pool per process (Django 5.2 + psycopg_pool) when DJANGO_DB_POOL_MAX_SIZE
# is set (production: deploy/tds.env.example): without one every concurrent request
# opened its own connection and 200 dashboards opened at once got "sorry, too many
# clients already". Requests wait up to DJANGO_DB_POOL_TIMEOUT seconds for a connection:
# the pool is the queue of a burst, so the wait must cover it (1,000 dashboards opened at
# once on 2 cores: with 10 s, 962 requests failed with PoolTimeout; with 60 s, none).
# Size it so that web workers × max size + consumers + Celery stay under max_connections.
DB_POOL_MAX_SIZE = env.int("DJANGO_DB_POOL_MAX_SIZE", default=0)
if DB_POOL_MAX_SIZE:
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(2, DB_POOL_MAX_SIZE),
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": env.float("DJANGO_DB_POOL_TIMEOUT", default=60.0),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=0))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Namespace of this installation's Redis keys and channels (tds_core/installation.py);
# empty: derived from the database (host:port/name), unique per database.
TDS_INSTALLATION = env.str("TDS_INSTALLATION", default="")
MQTT_URL = env.str("MQTT_URL", default="mqtt://127.0.0.1:1883")
# mTLS client material for the consumer when MQTT_URL is mqtts://
MQTT_CA_FILE = env.str("MQTT_CA_FILE", default="")
MQTT_CERT_FILE = env.str("MQTT_CERT_FILE", default="")
MQTT_KEY_FILE = env.str("MQTT_KEY_FILE", default="")

# Time-series back end: auto (TimescaleDB when the extension can be created), on, off.
TDS_TIMESCALE = env.str("TDS_TIMESCALE", default="auto")
TDS_RETENTION_DAYS = env.int("TDS_RETENTION_DAYS", default=730)
# Dashboard of a big account: above this many devices the first screen shows gateways by
# search and attention (offline first) instead of all, and the monthly chart one series
# per utility instead of one per meter. (The summary reads the consumption totals the
# rollup job keeps: telemetria.storage.totals.)
TDS_DASHBOARD_BIG_ACCOUNT = env.int("TDS_DASHBOARD_BIG_ACCOUNT", default=100)
TDS_PKI_DIR = Path(env.str("TDS_PKI_DIR", default=str(BASE_DIR / "var" / "pki")))
# Certificates (certificados/): validity, CRL lifetime, broker address shown in the
# download README, and how a revocation reaches the running broker (certificados/broker.py).
TDS_CERT_VALIDITY_DAYS = env.int("TDS_CERT_VALIDITY_DAYS", default=365)
TDS_CRL_VALIDITY_DAYS = env.int("TDS_CRL_VALIDITY_DAYS", default=90)
# The mTLS broker's address as gateways reach it. Empty: MQTT_URL's host and port when
# MQTT_URL is mqtts://; otherwise no mTLS broker is configured (`make run`'s plain broker)
# and the issue page and the zip's README say so (certificados/broker.py, gateway_endpoint).
TDS_MQTT_PUBLIC_HOST = env.str("TDS_MQTT_PUBLIC_HOST", default="")
TDS_MQTT_PUBLIC_PORT = env.int("TDS_MQTT_PUBLIC_PORT", default=8883)
# A key generated on issue waits this long in the cache (Redis) for one download by the
# user who issued it, then is gone (the issue page says so).
TDS_CERT_KEY_HOLD_SECONDS = env.int("TDS_CERT_KEY_HOLD_SECONDS", default=600)
TDS_MOSQUITTO_DIR = env.str("TDS_MOSQUITTO_DIR", default="")
TDS_MOSQUITTO_PID_FILE = env.str("TDS_MOSQUITTO_PID_FILE", default="")
TDS_MOSQUITTO_RELOAD_CMD = env.str("TDS_MOSQUITTO_RELOAD_CMD", default="")
# NATS JetStream deployment (README "Past one machine"): the consumer's server and mTLS
# material, the stream's replica count, and where `nats_config` wrote the nodes' files
# (auth.conf is rewritten there on registry changes, then the nodes reloaded).
NATS_URL = env.str("NATS_URL", default="nats://127.0.0.1:4222")
NATS_CA_FILE = env.str("NATS_CA_FILE", default="")
NATS_CERT_FILE = env.str("NATS_CERT_FILE", default="")
NATS_KEY_FILE = env.str("NATS_KEY_FILE", default="")
TDS_NATS_REPLICAS = env.int("TDS_NATS_REPLICAS", default=1)
TDS_NATS_ACK_WAIT = env.float("TDS_NATS_ACK_WAIT", default=30.0)
TDS_NATS_DIR = env.str("TDS_NATS_DIR", default="")
TDS_NATS_RELOAD_CMD = env.str("TDS_NATS_RELOAD_CMD", default="")
# Ingest consumer (ingestao/): batch by size (messages) and by time, payload limits.
TDS_INGEST_BATCH_SIZE = env.int("TDS_INGEST_BATCH_SIZE", default=500)
TDS_INGEST_BATCH_WAIT_MS = env.int("TDS_INGEST_BATCH_WAIT_MS", default=50)
TDS_INGEST_MAX_PAYLOAD_BYTES = env.int("TDS_INGEST_MAX_PAYLOAD_BYTES", default=65536)
TDS_INGEST_MAX_READINGS = env.int("TDS_INGEST_MAX_READINGS", default=64)
TDS_INGEST_MAX_FUTURE_SECONDS = env.int("TDS_INGEST_MAX_FUTURE_SECONDS", default=300)
TDS_INGEST_METRICS_PORT = env.int("TDS_INGEST_METRICS_PORT", default=0)
# The metrics endpoint has no authentication: loopback unless set otherwise.
TDS_INGEST_METRICS_ADDR = env.str("TDS_INGEST_METRICS_ADDR", default="127.0.0.1")
# A batch also ends at this many payload bytes (500 messages of 64 KiB would be 32 MiB).
TDS_INGEST_BATCH_MAX_BYTES = env.int("TDS_INGEST_BATCH_MAX_BYTES", default=4 * 1024 * 1024)
# Dead letters (ingestao/services.py): kept this many days, payload kept up to this many
# bytes (with the original size), and at most this many rows per source (gateway or
# topic MAC) and hour; past that, rejects are only counted.
TDS_DEAD_LETTER_RETENTION_DAYS = env.int("TDS_DEAD_LETTER_RETENTION_DAYS", default=30)
TDS_DEAD_LETTER_PAYLOAD_BYTES = env.int("TDS_DEAD_LETTER_PAYLOAD_BYTES", default=4096)
TDS_DEAD_LETTER_MAX_PER_HOUR = env.int("TDS_DEAD_LETTER_MAX_PER_HOUR", default=100)
# Live feed (telemetria/sse.py): open SSE streams per user (all processes), and how
# long a stream lasts before the browser reconnects (with jitter, static/js/tds-live.js).
TDS_SSE_MAX_STREAMS_PER_USER = env.int("TDS_SSE_MAX_STREAMS_PER_USER", default=10)
# CSV export (telemetria/csv_export.py): concurrent downloads per account, rows per
# chunk (each chunk its own short transaction), statement timeout per chunk.
TDS_CSV_MAX_CONCURRENT_PER_CONTA = env.int("TDS_CSV_MAX_CONCURRENT_PER_CONTA", default=2)
TDS_CSV_ROWS_PER_CHUNK = env.int("TDS_CSV_ROWS_PER_CHUNK", default=2000)
TDS_CSV_STATEMENT_TIMEOUT_MS = env.int("TDS_CSV_STATEMENT_TIMEOUT_MS", default=30000)
# A gateway is offline after this many of its reporting intervals without a message.
TDS_OFFLINE_AFTER_INTERVALS = env.int("TDS_OFFLINE_AFTER_INTERVALS", default=3)
# Live feed (telemetria/sse.py): a comment every HEARTBEAT seconds keeps proxies from
# closing an idle stream; after MAX seconds the server ends it and the browser reconnects.
TDS_SSE_HEARTBEAT_SECONDS = env.float("TDS_SSE_HEARTBEAT_SECONDS", default=15.0)
TDS_SSE_MAX_SECONDS = env.float("TDS_SSE_MAX_SECONDS", default=300.0)
# Periods of the Celery beat jobs (prj_tds_new/celery.py), in seconds.
TDS_STATUS_CHECK_SECONDS = env.float("TDS_STATUS_CHECK_SECONDS", default=30.0)
TDS_CERT_CHECK_SECONDS = env.float("TDS_CERT_CHECK_SECONDS", default=6 * 3600.0)
TDS_ROLLUP_SECONDS = env.float("TDS_ROLLUP_SECONDS", default=60.0)
TDS_PARTITION_SECONDS = env.float("TDS_PARTITION_SECONDS", default=3600.0)
TDS_ALARM_WINDOW_SECONDS = env.float("TDS_ALARM_WINDOW_SECONDS", default=60.0)
TDS_DEAD_LETTER_PURGE_SECONDS = env.float("TDS_DEAD_LETTER_PURGE_SECONDS", default=3600.0)
# Zip files of generated statements (faturamento jobs), one per job.
TDS_DEMONSTRATIVOS_DIR = Path(
    env.str("TDS_DEMONSTRATIVOS_DIR", default=str(BASE_DIR / "var" / "demonstrativos"))
)
# Celery queue of the statement-generation jobs (a worker of its own may serve it).
TDS_FATURAMENTO_QUEUE = env.str("TDS_FATURAMENTO_QUEUE", default="celery")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "tds",
        "KEY_FUNCTION": "tds_core.installation.cache_key",
        # One bounded pool per process (tds_core.redis_pool): Django's cache objects are
        # per thread and ASGI runs each request in its own, so 1,000 dashboards opened at
        # once reached 303 Redis clients. A thread waits up to `timeout` s for a connection.
        "OPTIONS": {
            "pool_class": "tds_core.redis_pool.SharedBlockingPool",
            "max_connections": env.int("TDS_CACHE_REDIS_CONNECTIONS", default=16),
            "timeout": 20,
        },
    }
}

AUTH_USER_MODEL = "contas.CustomUser"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "contas.throttle.LoginLockoutBackend",  # django-axes: refuses a locked-out login first
    "django.contrib.auth.backends.ModelBackend",
]
# Brute force (django-axes, on every authenticate(): /entrar/ and the admin login): after
# TDS_LOGIN_FAILURE_LIMIT failures for one e-mail from one IP address, that pair is locked
# for TDS_LOGIN_LOCKOUT_MINUTES (a success resets the count). Keyed on the pair so that
# strangers cannot lock a user out from elsewhere. Failures are kept in the database.
AXES_FAILURE_LIMIT = env.int("TDS_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.int("TDS_LOGIN_LOCKOUT_MINUTES", default=15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "contas.throttle.axes_username"
AXES_LOCKOUT_TEMPLATE = "registration/bloqueado.html"
AXES_VERBOSE = False
# Behind a reverse proxy the client address is the last X-Forwarded-For hop the proxies
# added: set TDS_PROXY_COUNT to their number (0: REMOTE_ADDR, no proxy trusted).
AXES_IPWARE_PROXY_COUNT = env.int("TDS_PROXY_COUNT", default=0) or None
if AXES_IPWARE_PROXY_COUNT:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
# Password reset requests (django-ratelimit, counters in the cache): per client address
# and per e-mail, so the form cannot be used to flood a mailbox or probe many addresses.
TDS_PASSWORD_RESET_RATE_IP = env.str("TDS_PASSWORD_RESET_RATE_IP", default="10/h")
TDS_PASSWORD_RESET_RATE_EMAIL = env.str("TDS_PASSWORD_RESET_RATE_EMAIL", default="3/h")
RATELIMIT_USE_CACHE = "default"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "pt-br"
# pt-BR only: the UI texts are written in Portuguese; offering "en" made browsers set to
# English get Django's own messages in English mixed into Portuguese pages.
LANGUAGES = [("pt-br", _("Portuguese (Brazil)"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "America/Sao_Paulo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# WhiteNoise serves static files from the ASGI app itself (no CDN, no separate server);
# in development straight from the finders, in production from collectstatic's output.
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="")
if not EMAIL_BACKEND:
    if not DEBUG:  # invitations and password resets must reach people
        raise ImproperlyConfigured(
            "DJANGO_EMAIL_BACKEND must be set when DJANGO_DEBUG is off"
            " (django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST etc.)."
        )
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="TDS New <noreply@localhost>")

# Notifications (notificacoes/): links in messages, grouping window, delivery claim and
# retries, channel health, Telegram Bot API. Beat periods are in prj_tds_new/celery.py.
TDS_PUBLIC_URL = env.str("TDS_PUBLIC_URL", default="http://127.0.0.1:8000")
TDS_NOTIFY_GROUP_SECONDS = env.float("TDS_NOTIFY_GROUP_SECONDS", default=5.0)
TDS_NOTIFY_CLAIM_SECONDS = env.int("TDS_NOTIFY_CLAIM_SECONDS", default=60)
TDS_NOTIFY_MAX_ATTEMPTS = env.int("TDS_NOTIFY_MAX_ATTEMPTS", default=8)
TDS_NOTIFY_RETRY_BASE_SECONDS = env.float("TDS_NOTIFY_RETRY_BASE_SECONDS", default=15.0)
TDS_NOTIFY_RETRY_MAX_SECONDS = env.float("TDS_NOTIFY_RETRY_MAX_SECONDS", default=3600.0)
TDS_NOTIFY_FAILING_AFTER = env.int("TDS_NOTIFY_FAILING_AFTER", default=3)
TDS_NOTIFY_HTTP_TIMEOUT = env.float("TDS_NOTIFY_HTTP_TIMEOUT", default=10.0)
TDS_NOTIFY_MAX_GROUP = env.int("TDS_NOTIFY_MAX_GROUP", default=100)
# Off only in tests that run no worker (each would leave a task on the shared Redis).
TDS_NOTIFY_ENQUEUE = env.bool("TDS_NOTIFY_ENQUEUE", default=True)
TDS_NOTIFY_QUEUE = env.str("TDS_NOTIFY_QUEUE", default="celery")
# Beat: the delivery sweep (behind the runs queued on commit), the reminder/escalation
# check, and the local hour of the daily digest.
TDS_NOTIFY_SWEEP_SECONDS = env.float("TDS_NOTIFY_SWEEP_SECONDS", default=15.0)
TDS_NOTIFY_REMINDER_CHECK_SECONDS = env.float("TDS_NOTIFY_REMINDER_CHECK_SECONDS", default=60.0)
TDS_NOTIFY_DIGEST_HOUR = env.int("TDS_NOTIFY_DIGEST_HOUR", default=7)
TDS_TELEGRAM_API_URL = env.str("TDS_TELEGRAM_API_URL", default="https://api.telegram.org")
TDS_TELEGRAM_BOT_TOKEN = env.str("TDS_TELEGRAM_BOT_TOKEN", default="")

# Celery: broker and results on Redis; the beat schedule lives in prj_tds_new/celery.py.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
# Two installations on one Redis must not share queues or results.
_celery_prefix = f"tds:{TDS_INSTALLATION or database_namespace(DATABASES['default'])}:celery:"
CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": _celery_prefix}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"global_keyprefix": _celery_prefix}
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TIMEZONE = TIME_ZONE

# HTTPS (README, "Production deployment"): on by default in production, each overridable.
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG
)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# X-Forwarded-Proto is trusted only behind a proxy that sets it (and strips the client's):
# anyone could otherwise claim https. deploy/nginx sets it.
if env.bool("DJANGO_TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Content-Security-Policy (django-csp): scripts and styles only from our static files, no
# inline code (templates carry JSON in json_script blocks, never executed).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],  # Bootstrap's CSS draws icons as data: SVG
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
