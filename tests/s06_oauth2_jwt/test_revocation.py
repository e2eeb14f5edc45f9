"""The denylist and the refresh families, straight on Redis (real Redis with --services)."""

import asyncio

import pytest

from lessons.s06_oauth2_jwt.redis_client import create_redis
from lessons.s06_oauth2_jwt.revocation import Rotation, TokenRevocation

pytestmark = pytest.mark.services

FAMILY = "a" * 32
WEEK = 7 * 24 * 3600


def with_revocation(redis_url, scenario):
    async def run():
        redis = create_redis(redis_url)
        try:
            return await scenario(TokenRevocation(redis), redis)
        finally:
            await redis.aclose()

    return asyncio.run(run())


def test_a_denied_jti_expires_with_the_token(redis_url):
    async def scenario(revocation, redis):
        await revocation.deny("acme", "j" * 32, seconds_left=1)
        denied_ttl = await redis.ttl(revocation.denied_key("acme", "j" * 32))
        await revocation.start_family("acme", FAMILY, "r1", WEEK)
        before = await revocation.is_active("acme", "j" * 32, FAMILY)
        await asyncio.sleep(1.5)
        after = await revocation.is_active("acme", "j" * 32, FAMILY)
        return denied_ttl, before, after, await redis.exists(revocation.denied_key("acme", "j" * 32))

    assert with_revocation(redis_url, scenario) == (1, False, True, 0)


def test_an_already_expired_token_is_not_written_to_the_denylist(redis_url):
    async def scenario(revocation, redis):
        await revocation.deny("acme", "j" * 32, seconds_left=0)
        return await redis.keys("auth:*")

    assert with_revocation(redis_url, scenario) == []


def test_rotation_then_reuse_then_revoked(redis_url):
    async def scenario(revocation, redis):
        await revocation.start_family("acme", FAMILY, "r1", WEEK)
        outcomes = [
            await revocation.rotate("acme", FAMILY, "r1", "r2", WEEK),
            await revocation.rotate("acme", FAMILY, "r2", "r3", WEEK),
            await revocation.rotate("acme", FAMILY, "r1", "r4", WEEK),  # r1 again: stolen
            await revocation.rotate("acme", FAMILY, "r3", "r5", WEEK),  # the newest, after the reuse
        ]
        return outcomes, await redis.exists(revocation.family_key("acme", FAMILY))

    outcomes, exists = with_revocation(redis_url, scenario)
    assert outcomes == [Rotation.ROTATED, Rotation.ROTATED, Rotation.REUSED, Rotation.REVOKED]
    assert exists == 0


def test_a_family_expires_with_its_refresh_token_and_rotation_renews_it(redis_url):
    async def scenario(revocation, redis):
        await revocation.start_family("acme", FAMILY, "r1", 100)
        first = await redis.ttl(revocation.family_key("acme", FAMILY))
        await revocation.rotate("acme", FAMILY, "r1", "r2", 200)
        return first, await redis.ttl(revocation.family_key("acme", FAMILY))

    first, renewed = with_revocation(redis_url, scenario)
    assert 99 <= first <= 100 and 199 <= renewed <= 200


def test_concurrent_refreshes_with_one_token_rotate_once_and_the_rest_count_as_reuse(redis_url):
    async def scenario(revocation, redis):
        await revocation.start_family("acme", FAMILY, "r1", WEEK)
        outcomes = await asyncio.gather(*(revocation.rotate("acme", FAMILY, "r1", f"new-{n}", WEEK) for n in range(20)))
        return outcomes, await redis.exists(revocation.family_key("acme", FAMILY))

    outcomes, exists = with_revocation(redis_url, scenario)
    assert outcomes.count(Rotation.ROTATED) == 1  # never two winners with one token
    assert outcomes.count(Rotation.REUSED) >= 1
    assert outcomes.count(Rotation.REUSED) + outcomes.count(Rotation.REVOKED) == 19
    assert exists == 0  # and the reuse revoked the family


def test_families_and_denylists_of_tenants_are_apart(redis_url):
    async def scenario(revocation, redis):
        await revocation.start_family("acme", FAMILY, "r1", WEEK)
        await revocation.revoke_family("globex", FAMILY)
        await revocation.deny("globex", "j" * 32, 60)
        return await revocation.is_active("acme", "j" * 32, FAMILY)

    assert with_revocation(redis_url, scenario) is True
