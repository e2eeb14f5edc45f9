"""The settings of a deployment: debug, the hosts and origins the service trusts, the worker's processes.

A part of Settings (settings.py), read with the rest from WORKBOOK_* variables; a list
is JSON: WORKBOOK_ALLOWED_HOSTS='["shop.example.com", "*.shop.example.com"]',
WORKBOOK_CORS_ORIGINS='["https://shop.example.com"]'. The defaults suit a laptop
and are refused in production (production_checks.py).
"""

from pydantic import Field
from pydantic_settings import BaseSettings


class DeploymentSettings(BaseSettings):
    # FastAPI's debug: an unexpected error answers with its traceback instead of a problem
    # (unexpected_errors.py). Convenient on a laptop; in production it shows strangers the code.
    debug: bool = False
    # The Host headers the service answers (Starlette's TrustedHostMiddleware, edge.py);
    # any other gets 400 before a route runs. "*.shop.example.com" allows every subdomain.
    # "*" allows any: a request forged with another site's name in its Host (cache poisoning,
    # password-reset links) is served as if it were for this one.
    allowed_hosts: list[str] = Field(default=["*"], min_length=1)
    # The browser origins whose pages may call the API from script (CORSMiddleware, edge.py).
    # Empty: no CORS headers at all, so browsers allow only pages of the API's own origin.
    cors_origins: list[str] = []
    # How many processes the Celery worker runs tasks in (celery worker --concurrency N):
    # each opens its own database connection, counted against the server's limit (pool_sizing.py).
    worker_concurrency: int = Field(default=1, ge=1)
