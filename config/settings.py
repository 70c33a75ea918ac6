"""Roundtable settings: one module, driven by environment variables.

The defaults are the embedded set-up (SQLite file, in-memory channel layer, local-memory
cache, a file-system Celery broker) so that `make run` needs nothing but Python; DATABASE_URL
and REDIS_URL switch to Postgres and Redis.

Each variable is documented where it is read, by the `#:` comment lines above it (a first
`#: default: ...` line when readers should see another default than the code's): they are
docs/reference/settings.md, which `python manage.py settings_doc` writes (core/settings_doc.py
has the format). A variable without them fails a test.
"""

import hashlib
import os
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

#: default: `./var`
#: Runtime files: SQLite file, uploads, the embedded broker's folder.
VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))

# --- Core -------------------------------------------------------------------------------
# Development conveniences exist only with DEBUG on; a deployment must name its secrets.
#: default: `0` (`make` sets `1`)
#: Development mode. With it off, `SECRET_KEY` and `ALLOWED_HOSTS` are required and the security
#: settings below default to on.
DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    #: default: a development key, only when `DEBUG=1`
    #: Django's signing key. Required in production, and refused there when weak (under 50
    #: characters, fewer than 5 different ones, or `django-insecure-…`).
    SECRET_KEY = env("SECRET_KEY", default="django-insecure-roundtable-development-key")
    #: default: `127.0.0.1,localhost,[::1]` when `DEBUG=1`
    #: Host names served, comma-separated. Required in production. Also the allowed `Origin`s of
    #: WebSocket connections.
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
else:
    missing = [name for name in ("SECRET_KEY", "ALLOWED_HOSTS") if not env.str(name, default="")]
    if missing:
        raise ImproperlyConfigured(
            f"{' and '.join(missing)} must be set when DEBUG is off. "
            "For local development set DEBUG=1 (the Makefile does)."
        )
    SECRET_KEY = env("SECRET_KEY")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
    # Django's own bar (check --deploy's W009), as an error: a guessable key signs sessions,
    # password resets and CSRF tokens that anyone can forge.
    if (
        len(SECRET_KEY) < 50
        or len(set(SECRET_KEY)) < 5
        or SECRET_KEY.startswith("django-insecure-")
    ):
        raise ImproperlyConfigured(
            "SECRET_KEY is too weak: use at least 50 random characters, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )

#: Extra origins allowed to post forms, e.g. `https://audio.example.com`.
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "core.error_views.csrf_failure"

INSTALLED_APPS = [
    "daphne",
    "config.apps.RoundtableAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "follows",
    "rooms",
    "chat",
    "notifications",
    "replays",
    "moderation",
]

MIDDLEWARE = [
    "core.middleware.forwarded_proto_from_trusted_proxies",
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.refuse_nul_characters",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

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
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
DATABASES = {
    #: default: `sqlite:///var/db.sqlite3`
    #: Database. `postgres://user:password@host:5432/name` for Postgres.
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions and WAL let the web server and the worker write concurrently;
    # the test database is a file because socket and live-server tests use several threads.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    # Named explicitly: Channels' live-server tests otherwise prefix the name twice.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}"}
    # Socket handlers reach the database many times a second from worker threads; a pool
    # (psycopg's) saves a new connection per call.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        #: Most Postgres connections per process (psycopg pool).
        "max_size": env.int("DATABASE_POOL_SIZE", default=10),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, cache, Celery broker -----------------------------------------
#: default: empty (embedded mode)
#: Redis for the channel layer, the Celery broker and the cache.
REDIS_URL = env.str("REDIS_URL", default="")

#: With Redis: `pubsub` (a room's event travels once to each server process with members in it,
#: which hands it to them) or `lists` (channels-redis's list layer: one copy per member written into
#: Redis; the [big-room benchmark](../benchmarks.md) compares them).
CHANNEL_LAYER = env.str("CHANNEL_LAYER", default="pubsub")
if CHANNEL_LAYER not in ("pubsub", "lists"):
    raise ImproperlyConfigured(f"CHANNEL_LAYER is 'pubsub' or 'lists', not {CHANNEL_LAYER!r}.")
if REDIS_URL:
    if CHANNEL_LAYER == "lists":
        CHANNEL_LAYERS = {
            "default": {
                # channels-redis's list layer, with a pool that waits and connections that
                # retry: a group's message is written once per member into Redis.
                "BACKEND": "realtime.channel_layers.RedisChannelLayer",
                "CONFIG": {
                    # socket_timeout=None: redis-py's read timeout otherwise kills idle
                    # consumers (channels_redis issue 422).
                    "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
                    #: Key prefix of the Redis channel layer, to share one Redis.
                    "prefix": env.str("CHANNELS_PREFIX", default="roundtable"),
                    "capacity": 1000,
                    "expiry": 60,
                },
            }
        }
    else:
        CHANNEL_LAYERS = {
            "default": {
                # Pub/Sub: a group's message goes once to each process with members in it.
                "BACKEND": "realtime.channel_layers.PubSubChannelLayer",
                "CONFIG": {
                    # A socket opening while Redis is down fails fast (and closes with "try
                    # again") rather than hangs in its handshake.
                    "hosts": [{"address": REDIS_URL, "socket_connect_timeout": 2}],
                    "prefix": env.str("CHANNELS_PREFIX", default="roundtable"),
                },
            }
        }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": 1000, "expiry": 60},
        }
    }


#: Redis connections of the channel layer per server process; past it a command waits for a free
#: one.
REDIS_POOL_SIZE = env.int("REDIS_POOL_SIZE", default=100)
#: How long a command waits for a free connection before the socket closes with 4503.
REDIS_POOL_TIMEOUT_SECONDS = env.float("REDIS_POOL_TIMEOUT_SECONDS", default=10)


def _redis_url_with_next_db(url):
    """The cache gets its own Redis database: clearing it must not flush queues."""
    base, _, db = url.rpartition("/")
    if base.endswith(":") or not db.isdigit():
        return url.rstrip("/") + "/1"
    if int(db) >= 15:
        raise ImproperlyConfigured(
            f"REDIS_URL uses database {db}; the cache takes the next one and Redis has 16 "
            "(0-15) unless told otherwise. Set CACHE_URL, or use a lower number."
        )
    return f"{base}/{int(db) + 1}"


if REDIS_URL:
    CACHES = {
        "default": {
            # Falls back to this process's memory while Redis is unreachable.
            "BACKEND": "core.cache.FallbackRedisCache",
            #: default: `REDIS_URL` with the next database number
            #: The cache's own Redis URL (needed when `REDIS_URL` uses database 15, the last of
            #: Redis's 16).
            "LOCATION": env.str("CACHE_URL", default="") or _redis_url_with_next_db(REDIS_URL),
            "KEY_PREFIX": "roundtable",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -----------------------------------------------------------------------------
# Without Redis the broker is a folder: it works across processes on one machine.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if not REDIS_URL:
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(VAR_DIR / "broker-control"),
    }
CELERY_TASK_IGNORE_RESULT = True
# Making replays and transcripts takes minutes of a core per hour of room: a queue of its own,
# so that a worker busy with one never holds up the notifications of a room that starts.
# `make run`'s one worker takes both queues; the production layout runs a worker for each.
CELERY_TASK_ROUTES = {"replays.tasks.*": {"queue": "replays"}}
# A task is acknowledged only once it finished: a killed worker's task runs again.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # Drops members whose connection died without a goodbye; ends unmoderated rooms.
    "sweep-presence": {"task": "rooms.tasks.sweep_presence", "schedule": 10.0},
    # Rooms and participants at the media server that the database does not account for.
    "reconcile-media": {"task": "rooms.tasks.reconcile_media", "schedule": 30.0},
    # "Starting soon" reminders; also re-sends fan-outs a broker outage kept from starting.
    "send-room-reminders": {"task": "notifications.tasks.send_room_reminders", "schedule": 60.0},
    # Deletes replays past REPLAY_RETENTION_DAYS.
    "expire-replays": {"task": "replays.tasks.expire_replays", "schedule": 3600.0},
    # Recording folders no replay will use: parts written after a room ended, a crash's.
    "sweep-recordings": {"task": "replays.tasks.sweep_recordings", "schedule": 3600.0},
    # API tokens and sessions past their expiry.
    "purge-expired": {"task": "accounts.tasks.purge_expired", "schedule": 3600.0},
}
# With late acknowledgement, a task of a worker that died is handed out again by Redis once
# this many seconds passed. It must stay longer than the longest task (fan-out chunks take
# well under a second); Redis' default of an hour would delay notifications that long.
#: With Redis: seconds after which a task of a worker that died is handed out again.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=300)
if REDIS_URL:
    # Workers look for such tasks every 10 s (kombu's default scans only every 100 s).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
    }

# --- Auth -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Refuses suspended and banned accounts, at sign-in and on every signed-in request.
AUTHENTICATION_BACKENDS = ["accounts.backends.AccountBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "hallway"
LOGOUT_REDIRECT_URL = "hallway"

# API tokens (one per sign-in through the API) stop working this many days after they were
# made; 0 keeps them until revoked. A new password revokes all of a person's tokens.
#: Days an API token works; `0` keeps tokens until revoked.
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=90)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- API --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an unauthenticated request then gets 401 with WWW-Authenticate.
        "accounts.backends.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON, as the schema says: a form body reads an empty value as "not given" and cannot
    # carry nested objects. The two uploads (a profile picture, a club's) take multipart too.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        #: Sign-in and sign-up attempts per client address (the pages, the API and the staff admin's
        #: sign-in together).
        "auth": env.str("THROTTLE_AUTH", default="10/min"),
        # Reports per person, API and pages together; repeats of one target are merged.
        #: Reports per person (profile form and API together).
        "reports": env.str("THROTTLE_REPORTS", default="20/hour"),
        # Searches per person; the type-ahead asks once per pause in typing.
        #: Searches per person through the API (the header's type-ahead).
        "search": env.str("THROTTLE_SEARCH", default="60/min"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Roundtable API",
    "DESCRIPTION": "Live audio rooms, people, clubs and notifications.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The interactive docs load their assets from this server, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"validatorUrl": None, "persistAuthorization": True},
    "ENUM_NAME_OVERRIDES": {
        "ClubRoleEnum": "follows.models.ClubMembership.Role",
        "MembershipStatusEnum": "follows.models.ClubMembership.Status",
        "RoomRoleEnum": "rooms.models.RoomMember.Role",
        "RoomStatusEnum": "rooms.models.Room.Status",
        "ReportReasonEnum": "moderation.models.Report.Reason",
        "ReportStatusEnum": "moderation.models.Report.Status",
    },
}

# --- Rooms ------------------------------------------------------------------------------
# Sized to what a browser mesh carries: each speaker sends one stream to every member, so a
# speaker's upload and encoder count grow with the room (docs/benchmarks.md has the figures).
#: Most people on stage in a room (moderators included); a room may set a lower cap.
ROOM_SPEAKER_CAP = env.int("ROOM_SPEAKER_CAP", default=8)
#: Most people in a mesh room when no media server is configured; the next one is told the room is
#: full and why (see [Live rooms](../rooms.md)).
ROOM_MAX_MEMBERS = env.int("ROOM_MAX_MEMBERS", default=25)
#: Live rooms one person may host at once; the next start is refused (`409 too_many_live_rooms`).
ROOM_LIVE_PER_PERSON = env.int("ROOM_LIVE_PER_PERSON", default=3)
#: Rooms (live or scheduled) one person may make a clock hour; the next gets 429.
ROOM_CREATIONS_PER_HOUR = env.int("ROOM_CREATIONS_PER_HOUR", default=20)
# People one person may invite an hour (invitees of their rooms, invitations to speak sent to
# people elsewhere): each one is a notification and a push.
#: People one person may invite a clock hour (room invitees, invitations to speak from elsewhere);
#: the next get 429.
ROOM_INVITES_PER_HOUR = env.int("ROOM_INVITES_PER_HOUR", default=60)
# A room whose last moderator left stays live this long so they can come back.
#: How long a room stays live after its last moderator left.
ROOM_MODERATOR_GRACE_SECONDS = env.int("ROOM_MODERATOR_GRACE_SECONDS", default=60)
#: A room socket silent this long is closed (4408); clients ping every 15 s.
ROOM_HEARTBEAT_TIMEOUT_SECONDS = env.int("ROOM_HEARTBEAT_TIMEOUT_SECONDS", default=45)
#: A member unseen this long (their server died) is dropped by the sweep.
ROOM_PRESENCE_STALE_SECONDS = env.int("ROOM_PRESENCE_STALE_SECONDS", default=45)
# A process writes the pings it heard in one UPDATE this often, not one per ping: with pings
# every 15 s a live member is at most 30 s unseen, inside the stale limit.
#: Each server process writes the pings it heard in one UPDATE this often (so presence writes do not
#: follow the ping rate); keep it under the stale limit minus the 15 s ping interval.
ROOM_PRESENCE_REFRESH_SECONDS = env.float("ROOM_PRESENCE_REFRESH_SECONDS", default=15)
#: Audience joins and leaves within this window go out as one `members.batch` (one for all server
#: processes).
ROOM_AUDIENCE_BATCH_SECONDS = env.float("ROOM_AUDIENCE_BATCH_SECONDS", default=0.5)
#: The same window in a room whose audience is past its first page of 50 (a batch there brings the
#: new count and little else).
ROOM_AUDIENCE_BATCH_SECONDS_BIG = env.float("ROOM_AUDIENCE_BATCH_SECONDS_BIG", default=2.0)
#: A server process holds a room's chat messages this long and writes them to each socket together
#: (0 sends each at once); any other event sends the held ones first.
ROOM_CHAT_COALESCE_SECONDS = env.float("ROOM_CHAT_COALESCE_SECONDS", default=0.2)
#: One person's chat messages in one room across sockets and processes: a burst, then a pace.
CHAT_BURST = env.int("CHAT_BURST", default=8)
#: with CHAT_BURST
CHAT_PER_SECOND = env.float("CHAT_PER_SECOND", default=1)
# Mention notifications one author may cause an hour, across rooms; past it, each person
# they mention gets one notification for the rest of the hour.
#: Mention notifications one author may cause an hour; past it, one per person mentioned for the
#: rest of the hour.
CHAT_MENTIONS_PER_HOUR = env.int("CHAT_MENTIONS_PER_HOUR", default=30)
ROOM_SNAPSHOT_AUDIENCE_PAGE = 50

# --- Media server (Janus) for rooms past the mesh --------------------------------------
# "auto": rooms start on the browser mesh and move, live, to the media server once they grow
# past ROOM_MESH_MAX_MEMBERS (when one is configured); "sfu": every room starts on it;
# "mesh": never. Without a media server a room holds ROOM_MAX_MEMBERS.
#: `auto`: rooms start on the browser mesh and move, live, to the media server past
#: `ROOM_MESH_MAX_MEMBERS`; `sfu`: every room starts on the media server; `mesh`: never.
ROOM_MEDIA = env.str("ROOM_MEDIA", default="auto")
if ROOM_MEDIA not in ("auto", "sfu", "mesh"):
    raise ImproperlyConfigured("ROOM_MEDIA is 'auto', 'sfu' or 'mesh'.")
# At 12 members a speaker's browser already sends 11 streams (about 0.45 core and 0.7 Mbit/s,
# docs/benchmarks.md); past it the room moves to the media server.
#: The size at which a live mesh room moves to the media server (when one is configured).
ROOM_MESH_MAX_MEMBERS = env.int("ROOM_MESH_MAX_MEMBERS", default=12)
# A room on the media server holds this many (docs/benchmarks.md has the figures per core).
#: Most people in a room on the media server.
ROOM_SFU_MAX_MEMBERS = env.int("ROOM_SFU_MAX_MEMBERS", default=10_000)
#: default: empty (`make run` sets a private one when `janus` is installed)
#: The media server's WebSocket API: `ws://<private address>:<port>` or `unix:<path>`. Empty: no
#: media server, rooms stay on the mesh.
JANUS_URL = env.str("JANUS_URL", default="")
#: default: derived from `SECRET_KEY` when `DEBUG=1`
#: Janus's `api_secret` and its plugins' `admin_key` (which also locks RTP forwarding). Required
#: with `JANUS_URL` in production.
JANUS_API_SECRET = env.str("JANUS_API_SECRET", default="")
#: with JANUS_API_SECRET
JANUS_ADMIN_KEY = env.str("JANUS_ADMIN_KEY", default="")
if JANUS_URL and not (JANUS_API_SECRET and JANUS_ADMIN_KEY):
    if not DEBUG:
        raise ImproperlyConfigured("JANUS_URL needs JANUS_API_SECRET and JANUS_ADMIN_KEY.")
    # Development: derived from SECRET_KEY, so `make run`'s private Janus and the web server
    # agree without a file of secrets.
    JANUS_API_SECRET = JANUS_API_SECRET or hashlib.sha256(f"api:{SECRET_KEY}".encode()).hexdigest()
    JANUS_ADMIN_KEY = JANUS_ADMIN_KEY or hashlib.sha256(f"admin:{SECRET_KEY}".encode()).hexdigest()
# More Janus instances (edges, same secrets) for rooms whose audience outgrows one: when a
# room has this many listeners on a server, the next ones go to the next server, which gets
# the stage's mix forwarded (to the address of its API) for a mountpoint of its own.
#: More Janus instances (edges, same secrets) for audiences that outgrow one:
#: `ws://10.0.0.6:8188,ws://10.0.0.7:8188`.
JANUS_SERVERS = env.list("JANUS_SERVERS", default=[])
#: A room's listeners on one Janus before the next ones go to the next server.
JANUS_LISTENERS_PER_SERVER = env.int("JANUS_LISTENERS_PER_SERVER", default=1000)
#: Janus's `ice_enforce_list`: the interfaces it offers to browsers (e.g. `eth0`).
JANUS_ICE_ENFORCE_LIST = env.str("JANUS_ICE_ENFORCE_LIST", default="")
#: Janus's `ice_ignore_list` (name prefixes) when no enforce list is set: container, bridge,
#: VPN and virtual machine interfaces, whose addresses no browser reaches.
JANUS_ICE_IGNORE_LIST = env.str(
    "JANUS_ICE_IGNORE_LIST", default="docker,br-,veth,virbr,vmnet,tun,tap"
)
#: Whether Janus offers IPv6 candidates too; off, a local Janus offers no public IPv6 address
#: of the machine (and browsers on IPv4-only networks try none in vain).
JANUS_IPV6 = env.bool("JANUS_IPV6", default=False)
#: UDP ports Janus uses for browsers' connections: open these (and only these) to the public.
JANUS_RTP_PORT_RANGE = env.str("JANUS_RTP_PORT_RANGE", default="20000-40000")
#: UDP ports of the rooms' mountpoints, fed by the stage's mix; bound to the address of the Janus
#: API (127.0.0.1 for a local one). Open them only to the stage's Janus, and only on edges. Its size
#: is how many rooms the media server holds at once: a room that would start on it or move to it
#: past that is refused with `503 media_full` ("The media server is full…").
JANUS_FORWARD_PORT_RANGE = env.str("JANUS_FORWARD_PORT_RANGE", default="40001-44000")
#: Janus's log level (0–7).
JANUS_DEBUG_LEVEL = env.int("JANUS_DEBUG_LEVEL", default=3)

# --- Replays ----------------------------------------------------------------------------
# Janus writes a recording room's mix here as WAV; the worker turns it into the replay's files
# (through the storage API, MEDIA_ROOT by default) and deletes the WAV. Both must see it.
#: default: `VAR_DIR/recordings`
#: Where the media server writes recordings (WAV, about 350 MB an hour); the Celery worker reads
#: them, so both run where this folder is.
RECORDINGS_DIR = Path(env.str("RECORDINGS_DIR", default=str(VAR_DIR / "recordings")))
#: default: `VAR_DIR/replays`
#: Where the replays' audio is stored (about 45 MB per hour of room, both formats). Not under
#: MEDIA_ROOT, which the web server serves to anyone: replays are sent after an access check.
REPLAYS_ROOT = Path(env.str("REPLAYS_ROOT", default=str(VAR_DIR / "replays")))
#: Whether nginx sends the replays' audio (`X-Accel-Redirect` to its internal location); the
#: production layout sets it. Off, Django sends it (Range requests included).
REPLAY_FILES_BY_PROXY = env.bool("REPLAY_FILES_BY_PROXY", default=False)
#: Days a replay is kept after its room ended; then it is deleted.
REPLAY_RETENTION_DAYS = env.int("REPLAY_RETENTION_DAYS", default=30)
#: The ffmpeg that makes the replays' files.
FFMPEG = env.str("FFMPEG", default="ffmpeg")
# Transcripts: faster-whisper on this machine's CPU (the `speech` extra); nothing is fetched at
# run time. The default model is Whisper tiny.en, shipped inside the extra's model wheel.
#: default: empty: the English `tiny.en` model that the `speech` extra installs
#: The faster-whisper model for transcripts: a directory or the name of a model already
#: downloaded (a multilingual one follows each room's language).
TRANSCRIBE_MODEL = env.str("TRANSCRIBE_MODEL", default="")
#: CPU threads one transcription uses.
TRANSCRIBE_THREADS = env.int("TRANSCRIBE_THREADS", default=1)

# --- Sockets ----------------------------------------------------------------------------
# Sockets one person may open a minute, per kind (room, notifications): a browser that
# reconnects backs off and stays far below; a script that churns is refused (4429).
#: Sockets one person may open a minute, per kind (room, notifications); the next is refused with
#: 4429.
SOCKET_OPENS_PER_MINUTE = env.int("SOCKET_OPENS_PER_MINUTE", default=30)

# --- Notifications ----------------------------------------------------------------------
# A room event's audience is written in chunks of this many rows, one task and one commit each
# (the commits, not the rows, dominate below a few thousand).
#: Notifications written per fan-out task.
NOTIFY_CHUNK_SIZE = env.int("NOTIFY_CHUNK_SIZE", default=5000)
#: How long before a scheduled room "starting soon" goes out.
ROOM_REMINDER_LEAD_MINUTES = env.int("ROOM_REMINDER_LEAD_MINUTES", default=10)
# A fan-out not planned this long after its event (the broker was down when it was
# enqueued, or the task was lost) is enqueued again by the minute task.
#: A fan-out not started this long after its event (broker down) is enqueued again.
NOTIFY_REDISPATCH_AFTER_SECONDS = env.int("NOTIFY_REDISPATCH_AFTER_SECONDS", default=60)
# A fan-out planned this long ago is checked by the minute task: recipients still without
# their row get it then. A broker can lose a chunk's task: Redis' transport holds a message
# only in the worker between taking it from the queue and recording it as unacknowledged,
# and the file-system broker hands a message out once. The wait lets a killed worker's
# tasks come back first (after CELERY_VISIBILITY_TIMEOUT on Redis).
#: default: `CELERY_VISIBILITY_TIMEOUT` + 60, at least `300`
#: How long after a fan-out was planned the minute task checks that everyone got their row.
NOTIFY_VERIFY_AFTER_SECONDS = env.int(
    "NOTIFY_VERIFY_AFTER_SECONDS", default=max(CELERY_VISIBILITY_TIMEOUT + 60, 300)
)
# Notification sockets refresh their presence this often; a row unseen for three rounds
# belongs to a server that died and is dropped.
#: How often notification sockets refresh their presence and groups.
NOTIFY_SOCKET_REFRESH_SECONDS = env.int("NOTIFY_SOCKET_REFRESH_SECONDS", default=300)

# --- Web Push ---------------------------------------------------------------------------
# The VAPID key pair that signs every push. Empty: one is made on first use and kept in
# VAR_DIR (mode 0600); several hosts must share one, so production sets it here. The private
# key is base64url (the raw 32 bytes or DER) or PEM; the public key, when set, must match.
#: default: empty: made once in `VAR_DIR/vapid-private.pem`
#: The Web Push signing key (PEM, or base64url raw or DER). Set it when several hosts send pushes
#: (see [Web Push](../features/notifications.md#web-push)).
VAPID_PRIVATE_KEY = env.str("VAPID_PRIVATE_KEY", default="")
#: default: derived
#: Checked against the private key when set.
VAPID_PUBLIC_KEY = env.str("VAPID_PUBLIC_KEY", default="")
# Who push services contact about this server's pushes: mailto: or https:. Empty: SITE_URL
# when it is https, else the address of DEFAULT_FROM_EMAIL.
#: default: `SITE_URL` when https, else `mailto:` of `DEFAULT_FROM_EMAIL`
#: Who push services may contact about this server's pushes.
VAPID_SUBJECT = env.str("VAPID_SUBJECT", default="")
#: A push service slower than this counts as a failure.
PUSH_TIMEOUT_SECONDS = env.float("PUSH_TIMEOUT_SECONDS", default=10)
# Pushes one task sends at once (each waits on a push service over the network).
#: Pushes one task sends at once.
PUSH_CONCURRENCY = env.int("PUSH_CONCURRENCY", default=8)
#: Failures in a row (other than 404/410, which drop it at once) before a subscription is dropped.
PUSH_MAX_FAILURES = env.int("PUSH_MAX_FAILURES", default=5)
#: Browsers one person may subscribe; the oldest goes first.
PUSH_MAX_SUBSCRIPTIONS = env.int("PUSH_MAX_SUBSCRIPTIONS", default=10)
# How long a push service keeps a "room started" or "invited to speak" push for a device
# that is offline; a room that ended by the time the push is sent is not pushed at all.
#: How long a push service keeps "room started" and "invited to speak" for an offline device.
PUSH_LIVE_TTL_SECONDS = env.int("PUSH_LIVE_TTL_SECONDS", default=3600)
# Development and tests: subscriptions may point at http:// on this machine (a browser's
# real push service is always https and never local).
#: Accept `http://` subscriptions to this machine (development and tests only).
PUSH_ALLOW_LOOPBACK = env.bool("PUSH_ALLOW_LOOPBACK", default=DEBUG)

# --- WebRTC ICE servers -----------------------------------------------------------------
# STUN/TURN for browsers behind NAT. With TURN_SECRET set (coturn's static-auth-secret),
# clients get time-limited TURN credentials in the TURN REST form.
#: ICE servers for browsers behind NAT, e.g. `stun:stun.example.org:3478`.
STUN_URLS = env.list("STUN_URLS", default=[])
#: with STUN_URLS
TURN_URLS = env.list("TURN_URLS", default=[])
#: coturn's `static-auth-secret`: clients get TURN credentials that expire.
TURN_SECRET = env.str("TURN_SECRET", default="")
#: Lifetime of those TURN credentials; a room page fetches fresh ones after four fifths of it.
TURN_CREDENTIAL_TTL_SECONDS = env.int("TURN_CREDENTIAL_TTL_SECONDS", default=3600)
if TURN_CREDENTIAL_TTL_SECONDS < 120:
    raise ImproperlyConfigured("TURN_CREDENTIAL_TTL_SECONDS is 120 or more.")
#: `relay` makes browsers use TURN only, so peers never learn each other's addresses.
ICE_TRANSPORT_POLICY = env.str("ICE_TRANSPORT_POLICY", default="all")
if ICE_TRANSPORT_POLICY not in ("all", "relay"):
    raise ImproperlyConfigured("ICE_TRANSPORT_POLICY is 'all' or 'relay'.")

# --- Production layout (`make serve-prod`: nginx in front of several daphne processes) ----
#: default: the number of cores
#: daphne processes behind nginx; more than one needs `REDIS_URL`.
WEB_PROCESSES = env.int("WEB_PROCESSES", default=os.cpu_count() or 1)
#: The first web process's port on 127.0.0.1; the others take the next ones.
WEB_PORT = env.int("WEB_PORT", default=8001)
# A web process told to stop (SIGTERM) closes its sockets with "restarting", lets what is in
# flight finish and exits within this many seconds, whatever is left (realtime/stopping.py).
#: How long a web process told to stop may take: it closes its sockets with 4012, lets what is
#: in flight finish, and exits (logging what it cut short, if anything).
WEB_STOP_SECONDS = env.float("WEB_STOP_SECONDS", default=10)
#: Celery worker processes.
WORKER_PROCESSES = env.int("WORKER_PROCESSES", default=1)
#: How long a worker told to stop may finish its task before the supervisor kills it (the task
#: then goes back to the broker).
WORKER_STOP_SECONDS = env.int("WORKER_STOP_SECONDS", default=60)
# Where nginx listens (address:port); with a certificate and key it ends TLS itself, without
# them TLS ends in front of it.
#: Where nginx listens, `address:port` (`make serve-prod` sets it to `HOST:PORT`).
PROXY_LISTEN = env.str("PROXY_LISTEN", default="127.0.0.1:8000")
#: PEM files: nginx ends TLS itself.
TLS_CERTIFICATE = env.str("TLS_CERTIFICATE", default="")
#: with TLS_CERTIFICATE
TLS_CERTIFICATE_KEY = env.str("TLS_CERTIFICATE_KEY", default="")

# --- The TURN relay (coturn under `make serve-prod`, deploy/turn.py) ----------------------
#: `auto`: `make serve-prod` runs a TURN relay of its own (coturn, when `turnserver` is
#: installed and `TURN_URLS` is empty) and hands browsers its URLs and credentials; `off`:
#: never (point `TURN_URLS` at TURN servers of your own, or go without: see
#: [what that costs](../operations/turn.md)).
TURN_SERVER = env.str("TURN_SERVER", default="auto")
if TURN_SERVER not in ("auto", "off"):
    raise ImproperlyConfigured("TURN_SERVER is 'auto' or 'off'.")
#: default: the address of `PROXY_LISTEN`
#: The address the relay listens on, UDP and TCP on `TURN_PORT`, TLS on `TURN_TLS_PORT` (with
#: `TLS_CERTIFICATE`).
TURN_LISTEN_IP = env.str("TURN_LISTEN_IP", default=PROXY_LISTEN.rpartition(":")[0].strip("[]"))
#: The relay's port for UDP and TCP.
TURN_PORT = env.int("TURN_PORT", default=3478)
#: The relay's TLS port (`turns:`): 443 on an address of its own passes most firewalls.
TURN_TLS_PORT = env.int("TURN_TLS_PORT", default=5349)
#: default: `TURN_LISTEN_IP`, or the first of `ALLOWED_HOSTS` when that is a wildcard
#: The host name in the URLs browsers get (the TLS certificate's name, for `turns:`).
TURN_PUBLIC_HOST = env.str(
    "TURN_PUBLIC_HOST",
    default=(
        ALLOWED_HOSTS[0]
        if TURN_LISTEN_IP in ("0.0.0.0", "::") and ALLOWED_HOSTS  # noqa: S104
        else TURN_LISTEN_IP
    ),
)
#: The relay's public address when it sits behind a 1:1 NAT (a cloud instance): coturn's
#: `external-ip`.
TURN_EXTERNAL_IP = env.str("TURN_EXTERNAL_IP", default="")
#: UDP ports the relay allocates for browsers: open these to the public with `TURN_PORT`.
TURN_RELAY_PORT_RANGE = env.str("TURN_RELAY_PORT_RANGE", default="44001-48000")
#: Addresses, networks (`10.1.0.0/16`) or `first-last` ranges among the private ones that
#: relays may reach: the media server's ICE address when it is private. Loopback, private,
#: link-local and the relay's own addresses are refused otherwise, so a relay cannot reach
#: Redis, Postgres or the web processes.
TURN_ALLOWED_PEER_IPS = env.list("TURN_ALLOWED_PEER_IPS", default=[])
#: Relays one person may hold at once (one per connection: on the mesh, one per peer).
TURN_USER_QUOTA = env.int("TURN_USER_QUOTA", default=24)
#: Relays the server holds at once, everyone's together.
TURN_TOTAL_QUOTA = env.int("TURN_TOTAL_QUOTA", default=2000)
#: Bytes per second one relay may carry each way: voice at 32 kbit/s needs about 6,000.
TURN_MAX_BYTES_PER_SECOND = env.int("TURN_MAX_BYTES_PER_SECOND", default=16000)
if TURN_SERVER == "auto" and not TURN_URLS and not TURN_SECRET and DEBUG:
    # Development: derived from SECRET_KEY, so the relay and the web processes agree.
    TURN_SECRET = hashlib.sha256(f"turn:{SECRET_KEY}".encode()).hexdigest()

# --- Internationalisation ---------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files and uploads -----------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
    # The replays' audio, sent only after an access check (replays.files).
    "replays": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": REPLAYS_ROOT, "base_url": None},
    },
}
# Avatars larger than this are refused before Pillow opens them.
#: Largest accepted profile picture upload.
AVATAR_MAX_BYTES = env.int("AVATAR_MAX_BYTES", default=2 * 1024 * 1024)
# ... and pictures with more pixels than this before any is decoded: a 20 KB PNG can hold
# 13000 x 13000 pixels, gigabytes once decoded. 16 M covers a 12-megapixel phone photo.
#: Most pixels (width × height) of a profile picture, read from its header before anything is
#: decoded.
AVATAR_MAX_PIXELS = env.int("AVATAR_MAX_PIXELS", default=16_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# The largest request body the web server reads (deploy/server.py): larger ones are refused
# with 413 before they are buffered. Room for a picture and a form around it.
#: default: `AVATAR_MAX_BYTES` + 1 MiB
#: Largest request body the web server reads; a larger one gets 413 before it is buffered.
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=AVATAR_MAX_BYTES + 1024 * 1024)

# --- Email ------------------------------------------------------------------------------
#: Outgoing mail, e.g. `smtp+tls://user:password@mail.example.com:587`.
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
#: Sender of outgoing mail.
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Roundtable <noreply@localhost>")
# Links in emails, link previews and calendar feeds point here.
#: default: `127.0.0.1` (`make run` passes its own)
#: The address `make run` serves on; the default `SITE_URL` follows it.
_SERVE_HOST = env.str("HOST", default="127.0.0.1")
#: default: `8000` (`make run` passes its own)
#: The port `make run` serves on; the default `SITE_URL` follows it.
_SERVE_PORT = env.int("PORT", default=8000)


def served_at(host: str, port: int) -> str:
    """The address of a server listening on `host:port`, as a browser on the same machine
    reaches it (an address that listens everywhere is reached on loopback)."""
    everywhere = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104 (not a bind)
    host = everywhere.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


#: default: `http://HOST:PORT`, where `make run` serves (`http://127.0.0.1:8000`)
#: The public address, for links in emails and link previews. Set it in production.
SITE_URL = env.str("SITE_URL", default=served_at(_SERVE_HOST, _SERVE_PORT))

# --- Security (production switches on from the environment) -----------------------------
# Reverse proxies (addresses or networks) whose X-Forwarded-For is believed when they are the
# peer; nobody's by default, so a client cannot choose the address its throttles count.
#: Addresses or networks (`10.0.0.0/8`) of the reverse proxies in front; only from them is
#: `X-Forwarded-For` believed (see [Security](../security.md)).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# Each defaults to the safe value when DEBUG is off; set it to 0 to opt out behind care.
#: default: on when `DEBUG=0`
#: Trust `X-Forwarded-Proto: https` from the reverse proxy.
if env.bool("BEHIND_TLS_PROXY", default=not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
#: default: on when `DEBUG=0`
#: Redirect plain HTTP to HTTPS.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
#: default: on when `DEBUG=0`
#: Session and CSRF cookies only over HTTPS.
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
#: default: `31536000` when `DEBUG=0`
#: Strict-Transport-Security max-age.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
#: default: on when `DEBUG=0`
#: HSTS flags.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
#: with SECURE_HSTS_INCLUDE_SUBDOMAINS
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
# Every page loads only this server's scripts, styles and pictures, and none inline: an
# injected <script> or style attribute does nothing. Sockets and the API are same-origin.
# One exception by its hash: the stylesheet of Turbo's progress bar
# (static/vendor/turbo/README.md), which Turbo writes into the page.
TURBO_PROGRESS_BAR_STYLE = "'sha256-WAyOw4V+FqDc35lQPyRADLBWbuNK8ahvYEaQIYF1+Ps='"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, TURBO_PROGRESS_BAR_STYLE],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "media-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SAMESITE = "Lax"
# Sessions are read from the cache (Redis when set) and written through to the database:
# opening a socket or a page costs no session query.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Logging ----------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    #: Root log level.
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}
