"""Parley settings, read from the environment.

Development defaults need no services: SQLite and the in-memory channel layer.
Set REDIS_URL and DATABASE_URL for the production shape (several processes).
"""

import os
import urllib.parse
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_flag("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # First, so that runserver speaks ASGI and serves WebSockets.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "axes",
    "rooms",
]

MIDDLEWARE = [
    "rooms.log.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The page's language: the one chosen with the language form (kept in a cookie), else
    # the browser's Accept-Language, else LANGUAGE_CODE. After sessions, before common.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Sync only: everything above runs in the request's one thread, with no trip to the
    # event loop and back per middleware hook (rooms/encoding.py says why).
    "rooms.encoding.Utf8FormMiddleware",
    # A database outage answers 503 with what was typed, ready to send again.
    "rooms.unavailable.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: turns a login refused for too many failures into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

ASGI_APPLICATION = "config.asgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A connection pool: sockets post through short database calls, and opening
    # a PostgreSQL connection for each one would cost more than the insert.
    from psycopg_pool import ConnectionPool

    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": int(os.environ.get("DATABASE_POOL_SIZE", "10")),
        # After PostgreSQL restarts, every pooled connection is dead: each is checked as it
        # is taken (one round trip) and replaced, so no request meets a dead one.
        "check": ConnectionPool.check_connection,
        # While PostgreSQL is down, a call waits this long for a connection, then fails
        # with an error the app answers (a message is refused with its text kept). Short:
        # a process's database calls take turns in one thread (Channels' and Django's async
        # code), so it is also the wait of every call queued behind it, never a busy pool.
        "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "2")),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers go on while a message is written; IMMEDIATE avoids
    # "database is locked" when two writers upgrade their locks at once.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

REDIS_URL = os.environ.get("REDIS_URL", "")
# Sentinels ("host:port,host:port,..."): REDIS_URL's host is then the name of the service
# they watch (redis://parley/0), as django-redis reads it, and every connection asks them
# where the primary is now, so a failover needs no restart.
REDIS_SENTINELS = env_list("REDIS_SENTINELS")
REDIS_SENTINEL_PASSWORD = os.environ.get("REDIS_SENTINEL_PASSWORD") or None


def redis_server(url: str, sentinels: list[str]) -> dict:
    """One Redis server (or Sentinel service) as a channels-redis `hosts` entry, which the
    cache and presence connect with too (rooms/redis_pools.py)."""
    # redis-py's default 5 s socket timeout must not end a quiet subscription (it closed
    # idle rooms' sockets with 1011).
    if not sentinels:
        return {"address": url, "socket_timeout": None}
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname:
        raise ImproperlyConfigured(f"REDIS_URL {url!r}: name the Sentinel service as its host")
    addresses = []
    for item in sentinels:
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise ImproperlyConfigured(f"REDIS_SENTINELS: expected host:port, got {item!r}")
        addresses.append((host.strip("[]"), int(port)))
    return {
        "sentinels": addresses,
        "master_name": parts.hostname,
        "db": int(parts.path.strip("/") or 0),
        "username": urllib.parse.unquote(parts.username) if parts.username else None,
        "password": urllib.parse.unquote(parts.password) if parts.password else None,
        "socket_timeout": None,
        "socket_connect_timeout": 2,
        # A Sentinel that does not answer is skipped quickly for the next one.
        "sentinel_kwargs": {
            "socket_timeout": 1,
            "socket_connect_timeout": 1,
            "password": REDIS_SENTINEL_PASSWORD,
        },
    }


# Several URLs, comma-separated, are shards: each room (its pub/sub and its presence) lives
# wholly on one of them, by a hash of its name; the cache (sessions' copies, rate limits,
# rooms' moderation state) lives on the first.
REDIS_SHARDS = [redis_server(url, REDIS_SENTINELS) for url in env_list("REDIS_URL")]
if REDIS_URL:
    # One Redis subscription per room per process, fanned out inside the process.
    # Pub/sub keeps nothing for a subscriber that was away: rooms/live/recovery.py and
    # the sequence numbers fill such gaps from the database.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": REDIS_SHARDS,
                # Pub/sub channels are global to a Redis server: deployments (or test
                # runs) that share one need their own prefix.
                "prefix": os.environ.get("CHANNEL_PREFIX", "parley"),
            },
        }
    }
    CACHES = {
        "default": {
            # A Redis that can't be reached (a failover under way) reads as a miss: the
            # cache only saves work (rooms/cache.py).
            "BACKEND": "rooms.cache.RedisCache",
            "LOCATION": "parley",
            "OPTIONS": {"server": REDIS_SHARDS[0]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Rate limits on messages, joins and sign-ups (rooms/limits.py); RATE_LIMITS=off for load tests.
RATE_LIMITS = os.environ.get("RATE_LIMITS", "on").strip().lower() != "off"


def env_rates(name: str, defaults: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """Limits as "action=count/seconds,...": each one named replaces its default."""
    rates = dict(defaults)
    for item in env_list(name):
        action, _, rate = item.partition("=")
        count, _, seconds = rate.partition("/")
        if action.strip() not in defaults or not (count.isdigit() and seconds.isdigit()):
            raise ImproperlyConfigured(f"{name}: expected action=count/seconds, got {item!r}")
        rates[action.strip()] = (int(count), int(seconds))
    return rates


# Per client address, whatever names or accounts it uses: looser than a person's own
# limits (8 messages every 2 s, 5 topic changes a minute, a typing cue every 2 s),
# since an office or a school shares one address.
RATE_LIMITS_PER_ADDRESS = env_rates(
    "RATE_LIMITS_PER_ADDRESS",
    {
        "message": (60, 10),  # messages and edits
        "about": (20, 60),  # topic and description changes
        "typing": (10, 2),
        "reaction": (60, 10),
        "join": (20, 60),
        "signup": (5, 3600),
        "upload": (60, 60),  # messages with files
        "search": (120, 10),
        "room": (60, 60),  # new private rooms, conversations and invitations
    },
)

# The proxies whose X-Forwarded-For (and -Proto) `manage.py serve` believes: the client
# address every limit counts comes from them, and from nobody else. Empty: trust no one.
FORWARDED_ALLOW_IPS = env_list("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Presence (rooms/live/presence.py): each process refreshes its sockets' entries every
# PRESENCE_HEARTBEAT seconds; entries of a process that died drop out after PRESENCE_TTL.
PRESENCE_HEARTBEAT = float(os.environ.get("PRESENCE_HEARTBEAT", "10"))
PRESENCE_TTL = float(os.environ.get("PRESENCE_TTL", "30"))
# Where the entries live (rooms/live/stores.py), made when first used: Redis, shared by
# every process, when REDIS_URL is set; else a dict in this one process.
PRESENCE_BACKEND = os.environ.get("PRESENCE_BACKEND") or (
    "rooms.live.stores.RedisStore" if REDIS_URL else "rooms.live.stores.MemoryStore"
)
# Who is here and the lobby's cards are pushed at most once a second per room, however
# many people come and go (rooms/live/presence.py, rooms/live/lobby.py).
LIVE_PUSHES = True
LIVE_PUSH_EVERY = 1.0
# The lobby lists rooms with people in them or a message in the last LOBBY_HOURS hours.
LOBBY_HOURS = float(os.environ.get("LOBBY_HOURS", "24"))
# A page more than CATCH_UP_BOUND changes behind gets the room's newest page drawn fresh
# instead of every change it missed (rooms/live/feed.py).
CATCH_UP_BOUND = int(os.environ.get("CATCH_UP_BOUND", "1000"))
# The once-a-second recheck (rooms/recovery.py) that fills a socket from the database when
# a push never came. Keep it on: it is what brings a lost last push after a Redis restart.
# Tests of the live path switch it off, so that only the live path can deliver.
LIVE_RECHECK = env_flag("LIVE_RECHECK", default=True)


def env_days(name: str) -> int | None:
    """A whole number of days, or None when unset, empty or "off"."""
    value = os.environ.get(name, "").strip().lower()
    if value in {"", "off"}:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ImproperlyConfigured(f"{name}: expected a number of days (1 or more) or off")
    return int(value)


# Messages older than this many days are removed by `manage.py prune_messages` (run it from
# cron or a systemd timer, docs/deploy.md); None, the default, keeps everything.
RETENTION_DAYS = env_days("RETENTION_DAYS")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Every word people see is in templates or the translation catalog (locale/, built by
# `make compilemessages`). Each page is drawn in its reader's language (the language form,
# else Accept-Language, else LANGUAGE_CODE), and so are its live pushes: each is drawn once per
# language here, and every socket gets its page's language (docs/templates.md).
# LANGUAGES (e.g. "de") offers fewer: a site in one language draws each push once.
TRANSLATED = {"en": "English", "de": "Deutsch"}
LANGUAGES = [(code, TRANSLATED.get(code, "")) for code in env_list("LANGUAGES", "en,de")]
if not LANGUAGES or not all(name for _code, name in LANGUAGES):
    raise ImproperlyConfigured(f"LANGUAGES: some of {', '.join(TRANSLATED)}, comma-separated")
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE") or LANGUAGES[0][0]
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"LANGUAGE_CODE: one of {', '.join(dict(LANGUAGES))}")
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Pictures and files on messages (rooms/uploads.py), kept through the default storage:
# files under MEDIA_ROOT, or an S3-compatible store when S3_BUCKET is set. Either way
# they are served by rooms/files.py (which checks who asks), never from a public URL.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "media")
MEDIA_URL = "/media/"  # nothing is served here
if os.environ.get("S3_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["S3_BUCKET"],
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
            "access_key": os.environ.get("S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
            "region_name": os.environ.get("S3_REGION") or None,
            # Private objects: the bucket is never read by browsers directly.
            "default_acl": "private",
            "file_overwrite": False,
        },
    }
# One file's size in bytes, files per message, and what kinds (by extension; pictures are
# also checked to be what they say). HTML, SVG and scripts are never shown in the page:
# anything but a checked picture is served as a download.
PARLEY_UPLOAD_MAX_BYTES = int(os.environ.get("PARLEY_UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
PARLEY_UPLOAD_MAX_FILES = int(os.environ.get("PARLEY_UPLOAD_MAX_FILES", "4"))
PARLEY_UPLOAD_TYPES = env_list(
    "PARLEY_UPLOAD_TYPES",
    ".png,.jpg,.jpeg,.gif,.webp,.svg,.pdf,.txt,.md,.csv,.json,.log,.zip,.gz,.tar,.7z,"
    ".doc,.docx,.xls,.xlsx,.ppt,.pptx,.odt,.ods,.odp,.rtf,.mp3,.ogg,.wav,.mp4,.webm",
)
# A picture with more pixels than this (all frames together) is refused before it is
# decoded: a small file can claim a huge picture (a decompression bomb).
PARLEY_UPLOAD_MAX_PIXELS = int(os.environ.get("PARLEY_UPLOAD_MAX_PIXELS", str(50_000_000)))
# A form with files: kept in memory up to 2.5 MB, then in a temporary file; more files than
# a message may carry still reach the view, which says what the limit is.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FILES = max(100, PARLEY_UPLOAD_MAX_FILES * 4)
FILE_UPLOAD_PERMISSIONS = 0o640

# Scripts and styles come from this host or carry the page's nonce; sockets
# connect back to this host only ('self' covers ws: and wss: of the origin).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Served over HTTPS (behind a TLS proxy): secure cookies, HSTS, redirect plain HTTP.
# `manage.py check --deploy` is clean with DEBUG off, HTTPS on and a real SECRET_KEY.
if env_flag("HTTPS"):
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # probes speak plain HTTP
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Password guessing at /accounts/login/ and /admin/login/ (django-axes): after
# LOGIN_FAILURE_LIMIT failures for one username, or from one address, logins from there
# are refused for LOGIN_COOLOFF_MINUTES (counted again from each refused try) with a page
# that says so (HTTP 429). Off with the other limits (RATE_LIMITS=off).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = RATE_LIMITS
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# The address every other limit counts: the real client's, behind the trusted proxy.
AXES_CLIENT_IP_CALLABLE = "rooms.limits.client_address"
# Failed attempts are kept (for the cool-off); successful logins are not logged.
AXES_DISABLE_ACCESS_LOG = True

LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 30
# Every page and socket reads the session: from the cache (Redis, or this process's memory
# on the embedded defaults), the database only on a miss. Writes go to both.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# One JSON object per line; message bodies are never logged.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "rooms.log.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Request lines come from rooms.log; Django's own would repeat them.
        "django.server": {"level": "WARNING"},
        "django.channels.server": {"level": "WARNING"},
        "parley.http": {"level": os.environ.get("ACCESS_LOG_LEVEL", "INFO")},
    },
}

# Open sockets (rooms/live/backlog.py, rooms/live/caps.py). A socket with more than this many
# characters or events waiting for its reader, or a send waiting longer than this many
# seconds, is closed with 1013 (the page reconnects and catches up).
SOCKET_BACKLOG_BYTES = int(os.environ.get("SOCKET_BACKLOG_BYTES", str(1024 * 1024)))
SOCKET_BACKLOG_EVENTS = int(os.environ.get("SOCKET_BACKLOG_EVENTS", "1000"))
SOCKET_BACKLOG_SECONDS = float(os.environ.get("SOCKET_BACKLOG_SECONDS", "10"))
# Room sockets one session, and one client address, may hold open in a server process.
SOCKETS_PER_SESSION = int(os.environ.get("SOCKETS_PER_SESSION", "20"))
SOCKETS_PER_ADDRESS = int(os.environ.get("SOCKETS_PER_ADDRESS", "200"))
