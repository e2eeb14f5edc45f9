"""Settings, read once from WORKBOOK_* environment variables.

pydantic-settings does the reading and the validation (`BaseSettings` moved out
of pydantic itself in version 2). `get_settings` is cached, so the whole app
shares one Settings object: an application-scoped dependency.
"""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WORKBOOK_")

    app_name: str = "Storefront API"
    # In-memory SQLite: nothing to install, and a fresh shop every time the app starts.
    # Point it at PostgreSQL with, for example,
    # WORKBOOK_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test
    database_url: str = "sqlite://"
    sql_echo: bool = False
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


@lru_cache
def get_settings() -> Settings:
    # lru_cache on a plain function: the first call builds Settings, later calls
    # return that object. (On an `async def` it would cache a coroutine, which can
    # be awaited only once; keep cached providers synchronous.)
    return Settings()
