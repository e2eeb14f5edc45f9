"""Exercise 02/rate_limit_usage: how much of my rate limit is left?

`GET /rate-limit` (with an X-Tenant-ID header) answers the caller's usage of
the limit the /users routes share, without using any of it up:

    {"limit": 100, "remaining": 97, "reset_in": 42}

- `limit`: the requests allowed per window (rate_limiter.limit_for(settings)).
- `remaining`: how many are left in the current window, never below 0.
- `reset_in`: seconds until the window ends. A caller with no window open (no
  request counted yet, or the last window expired) answers 0, with the whole
  limit remaining: their next request starts a fresh window.

Read the counter, do not touch it: the key is rate_limiter.key_for(tenant id,
client host), its value is the count so far (GET), and TTL tells the seconds
left (TTL answers -2 for a key that does not exist).
"""

from fastapi import APIRouter, Request
from pydantic import BaseModel

from ..dependencies import RedisDep, SettingsDep, TenantDep
from ..rate_limiting import client_host, rate_limiter

router = APIRouter(tags=["exercises"])


class RateLimitUsage(BaseModel):
    limit: int
    remaining: int
    reset_in: int


@router.get("/rate-limit")
async def rate_limit_usage(
    request: Request, tenant: TenantDep, redis: RedisDep, settings: SettingsDep
) -> RateLimitUsage:
    raise NotImplementedError("exercise 02/rate_limit_usage: write this part")
