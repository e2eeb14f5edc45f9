"""Settings, read once from WORKBOOK_* environment variables.

pydantic-settings does the reading and the validation (`BaseSettings` moved out
of pydantic itself in version 2). `get_settings` is cached, so the whole app
shares one Settings object: an application-scoped dependency.
"""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .deployment_settings import DeploymentSettings
from .health_settings import HealthSettings
from .migration_settings import MigrationSettings
from .retrying import longest_attempt_seconds


# Deadlines and grace: health_settings.py; debug, hosts, CORS, workers: deployment_settings.py; migration_settings.py.
class Settings(HealthSettings, DeploymentSettings, MigrationSettings, BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WORKBOOK_")

    app_name: str = "Storefront API"
    # "production" refuses to start with anything only safe on a laptop (production_checks.py).
    environment: Literal["development", "test", "production"] = "development"
    # In-memory SQLite: nothing to install, and a fresh shop every time the app starts. Point it at
    # PostgreSQL with, for example, WORKBOOK_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test
    database_url: str = "sqlite://"
    sql_echo: bool = False
    # The app's JSON lines from this level up; DEBUG adds SQL timings (sql_timing.py). Libraries: INFO up.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # None runs an in-process fake Redis, so there is nothing to install either.
    # Point it at a server with WORKBOOK_REDIS_URL=redis://127.0.0.1:6379/0
    redis_url: str | None = None
    rate_limit_per_minute: int = 100
    # The tenants created at start-up. A list from the environment is JSON:
    # WORKBOOK_TENANTS='["acme", "globex", "initech"]'
    tenants: list[str] = ["acme", "globex"]
    # The reverse proxies whose X-Forwarded-For header names the real client (JSON too):
    # WORKBOOK_TRUSTED_PROXIES='["10.0.0.5"]'. The rate limit counts per client, so
    # behind a proxy every client would share the proxy's count; believing the header
    # from anyone else would let a caller pick whose count it uses. Empty: the header
    # is believed from nobody. `make serve` hands the list to uvicorn (forwarded_allow_ips);
    # serving by hand, pass it yourself: uvicorn --forwarded-allow-ips 10.0.0.5.
    trusted_proxies: list[str] = []
    # Where uploaded images and their thumbnails are kept. None makes a temporary
    # directory when the app starts and removes it when the app stops, like the
    # in-memory database: WORKBOOK_MEDIA_DIR=/var/lib/storefront/media keeps them.
    media_dir: Path | None = None
    # The largest upload accepted, in bytes (5 MB): bigger files answer 413.
    max_upload_bytes: int = Field(default=5_000_000, gt=0)
    # The longest side, in pixels, of each thumbnail made from a profile image.
    thumbnail_sizes: list[int] = [150, 300, 600]

    # Celery. None keeps the queue inside the process (kombu's memory transport and
    # an in-memory result store): the app runs and queues tasks with nothing else
    # running, and they stay PENDING because no worker reads that queue.
    # `make serve` starts a broker and a worker and sets both, e.g.
    # WORKBOOK_BROKER_URL=redis://127.0.0.1:6379/1 WORKBOOK_RESULT_BACKEND=redis://127.0.0.1:6379/2
    broker_url: str | None = None
    result_backend: str | None = None
    # Where the welcome email goes: the workbook's own mail server (`python -m workbook mail`).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_timeout_seconds: float = 5.0
    mail_from: str = "Storefront <hello@storefront.example>"
    # Retries of the welcome email: the delay doubles from the base up to the cap,
    # with jitter (see retrying.py). Tests and the notebook use a small base.
    welcome_retry_base_seconds: float = 1.0
    welcome_retry_cap_seconds: float = 60.0
    welcome_max_retries: int = 8
    # How long a claim on "send this user's welcome email" holds before another
    # delivery of the task may take over (a worker that died mid-send never confirms).
    # Longer than one send can take (checked below: a shorter lease would let a
    # second run send while the first is still talking to the mail server).
    welcome_claim_seconds: int = 60
    # How often Celery beat runs the outbox relay, which queues again every welcome
    # email that is recorded but not sent and no longer being retried (outbox.py).
    welcome_relay_seconds: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def claim_outlasts_a_send(self) -> "Settings":
        longest = longest_attempt_seconds(self.smtp_timeout_seconds)
        if self.welcome_claim_seconds <= longest:
            raise ValueError(
                f"welcome_claim_seconds ({self.welcome_claim_seconds}) must exceed the longest send, {longest} s"
                " (every SMTP step of smtp_timeout_seconds)"
            )
        return self

    # FastAPI runs every `def` route and dependency in anyio's thread pool, which
    # lends out at most this many threads at a time (anyio's own default is 40).
    thread_limit: int = Field(default=40, ge=1)

    # --- Authentication ---
    # The HS256 signing key. None means the development key, announced at start-up
    # and refused in production. Make one with: python -c "import secrets; print(secrets.token_urlsafe(48))"
    jwt_secret_key: SecretStr | None = None
    jwt_issuer: str = "storefront-api"
    jwt_audience: str = "storefront"
    access_token_minutes: int = Field(default=15, ge=1, le=60)
    refresh_token_days: int = Field(default=7, ge=1, le=90)
    # bcrypt's cost: each step doubles the work. 12 takes about a quarter of a
    # second on a laptop (realistic); tests and notebooks set 4 to stay fast.
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)
    # Log-in attempts per minute per tenant and client, counted apart from the other routes.
    login_attempts_per_minute: int = 10
    # Per account (login_throttling.py): wrong passwords allowed per account and client address
    # in the window; wrong passwords per account, from anywhere, before addresses that never
    # logged in to it must wait (the first wait, then twice as long each time, up to the cap);
    # how long an address that logged in stays known, and so exempt from that wait.
    login_failures_per_client: int = Field(default=5, ge=1)
    login_failures_before_backoff: int = Field(default=10, ge=0)
    login_failure_window_minutes: int = Field(default=15, ge=1)
    login_backoff_first_seconds: int = Field(default=1, ge=1)
    login_backoff_max_seconds: int = Field(default=900, ge=1)
    known_client_days: int = Field(default=30, ge=1)
    # How long a permission decision stays cached in Redis (permissions.py).
    permission_cache_seconds: int = Field(default=60, ge=1, le=3600)
    # --- Caching product reads (tiered_cache.py, product_cache.py) ---
    # Off: every read asks the database.
    product_cache_enabled: bool = True
    # Each process's own tier: how many entries it keeps, and for how long. Short, because
    # a broadcast this process missed (cache_invalidation.py) leaves it stale until then.
    product_cache_local_size: int = Field(default=1024, ge=1, le=1_000_000)
    product_cache_local_seconds: float = Field(default=10.0, gt=0, le=3600)
    # The tier every process shares. A write deletes its key; the TTL only bounds
    # what a write that could not reach Redis leaves behind.
    product_cache_redis_seconds: float = Field(default=300.0, gt=0, le=86400)
    # Listen for the writes of other processes. Off only to watch the stale reads it prevents.
    product_cache_broadcast: bool = True
    # Each demo tenant gets an admin, admin@<tenant>.example, with this password.
    # Only for learning: the app refuses to start with demo admins in production.
    seed_demo_admins: bool = True
    demo_admin_password: SecretStr = SecretStr("storefront-demo-admin")

    # --- The connection pool (pool_sizing.py, pool_watch.py) ---
    # Connections each process keeps open, and how many more it may open when all
    # of those are busy (closed again when returned).
    pool_size: int = Field(default=5, ge=1)
    max_overflow: int = Field(default=10, ge=0)
    # Seconds a request waits for a free connection before it answers 503.
    # SQLAlchemy's own default is 30: a client would hang half a minute first.
    pool_timeout: float = Field(default=2.0, gt=0, le=60)
    # Seconds after which a connection is replaced rather than reused (-1: never),
    # shorter than any idle cut-off of a proxy or firewall between app and database.
    pool_recycle: int = Field(default=1800, ge=-1)
    # Test each connection with a cheap round trip as it leaves the pool, so one the
    # server closed (a restart, say) is replaced instead of failing the request.
    pool_pre_ping: bool = True
    # How many processes serve the app (uvicorn --workers N): each has its own pool,
    # and start-up refuses a total the database server cannot accept.
    workers: int = Field(default=1, ge=1)
    # The longest a statement of a request may run before PostgreSQL cancels it (0: no limit).
    statement_timeout_ms: int = Field(default=5000, ge=0, le=3_600_000)

    # --- Outbound HTTP and payments (outbound.py, payments.py, idempotency.py) ---
    # The one HTTP client's pool: at most this many connections open at once, this many
    # kept alive between calls, each for this long; and how long to wait to connect
    # and then for each step of a call (sending, reading, a free connection).
    http_max_connections: int = Field(default=20, ge=1)
    http_max_keepalive_connections: int = Field(default=10, ge=0)
    http_keepalive_seconds: float = Field(default=30.0, gt=0)
    http_connect_timeout_seconds: float = Field(default=2.0, gt=0)
    http_timeout_seconds: float = Field(default=5.0, gt=0)
    # A certificate authority the client trusts besides the system's: the workbook's
    # payment provider signs with its own (`make serve` sets it, with the provider's URL).
    http_ca_file: Path | None = None
    payment_provider_url: str = "https://127.0.0.1:8443"
    # The most a charge may take in all (the client's timeouts are per step: a provider
    # trickling its answer byte by byte would pass each one); then 504.
    payment_deadline_seconds: float = Field(default=10.0, gt=0, le=60)
    # How long an Idempotency-Key stays "in flight" (longer than a charge can take,
    # checked below), and how long its answer is kept for retries.
    payment_pending_seconds: int = Field(default=30, ge=1)
    payment_result_seconds: int = Field(default=86_400, ge=1)
    # A product's lock (product_locks.py): its TTL, if its holder dies, and the longest an order waits for it.
    order_lock_seconds: float = Field(default=5.0, gt=0, le=60)
    order_lock_wait_seconds: float = Field(default=2.0, ge=0, le=30)

    @model_validator(mode="after")
    def pending_outlasts_a_charge(self) -> "Settings":
        if self.payment_pending_seconds <= self.payment_deadline_seconds:
            raise ValueError(
                f"payment_pending_seconds ({self.payment_pending_seconds}) must exceed"
                f" payment_deadline_seconds ({self.payment_deadline_seconds})"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    # lru_cache on a plain function: the first call builds Settings, later calls
    # return that object. (On an `async def` it would cache a coroutine, which can
    # be awaited only once; keep cached providers synchronous.)
    return Settings()
