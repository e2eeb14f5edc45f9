"""What production refuses: the settings that are only safe on a laptop, all named at once.

With WORKBOOK_ENVIRONMENT=production the lifespan calls `refuse_unsafe_settings`
before it opens anything. Each defaults to what a learner needs with nothing set;
each would hurt on a real server:

    WORKBOOK_JWT_SECRET_KEY     unset, or the development key: the key is in the repository,
                                so anyone could sign a token for any user (signing_keys.py)
    WORKBOOK_SEED_DEMO_ADMINS   an admin per tenant with a published password (demo_admins.py)
    WORKBOOK_DEBUG              tracebacks, and so the code, shown to whoever causes an error
    WORKBOOK_ALLOWED_HOSTS      "*": any Host header is served as if it named this service
    WORKBOOK_CORS_ORIGINS       "*": any site's script may call the API
    WORKBOOK_TRUSTED_PROXIES    "*": anyone may choose the address the rate limit counts

One message names every offending setting, so a deployment is fixed in one round
rather than one restart per mistake. The pool's size against the database server's
limit is checked once the database is open (pool_sizing.py).
"""

from .settings import Settings
from .signing_keys import DEVELOPMENT_KEY, MIN_KEY_BYTES, InsecureConfiguration

ANY = "*"


def signing_key_problem(settings: Settings) -> str | None:
    if settings.jwt_secret_key is None:
        return "WORKBOOK_JWT_SECRET_KEY is not set: tokens would be signed with the public development key"
    key = settings.jwt_secret_key.get_secret_value()
    if key == DEVELOPMENT_KEY:
        return "WORKBOOK_JWT_SECRET_KEY is the public development key: set a secret one"
    if len(key.encode("utf-8")) < MIN_KEY_BYTES:
        return f"WORKBOOK_JWT_SECRET_KEY is shorter than {MIN_KEY_BYTES} bytes, too short for HS256"
    return None


def production_problems(settings: Settings) -> list[str]:
    """Every setting production refuses, each with what is wrong; empty when all is well."""
    problems = [
        signing_key_problem(settings),
        "WORKBOOK_SEED_DEMO_ADMINS is on: demo admins have a published password" if settings.seed_demo_admins else None,
        "WORKBOOK_DEBUG is on: an error would show its traceback to the caller" if settings.debug else None,
        f'WORKBOOK_ALLOWED_HOSTS allows any host ("{ANY}"): name the service\'s own'
        if ANY in settings.allowed_hosts
        else None,
        f'WORKBOOK_CORS_ORIGINS allows any origin ("{ANY}"): name the sites that may call the API'
        if ANY in settings.cors_origins
        else None,
        f'WORKBOOK_TRUSTED_PROXIES trusts any peer ("{ANY}"): name the proxies in front of the service'
        if ANY in settings.trusted_proxies
        else None,
    ]
    return [problem for problem in problems if problem is not None]


def refuse_unsafe_settings(settings: Settings) -> None:
    """In production, raise InsecureConfiguration naming every setting that is only safe on a laptop."""
    if settings.environment != "production":
        return
    problems = production_problems(settings)
    if problems:
        lines = "".join(f"\n  - {problem}" for problem in problems)
        raise InsecureConfiguration(f"Refusing to start in production; fix these settings:{lines}")
