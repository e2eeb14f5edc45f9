"""Which key signs the tokens, and when the app must refuse to start.

HS256 signs with one shared secret: whoever holds it can mint any token for any
user, so it comes from the environment (WORKBOOK_JWT_SECRET_KEY), never the code.
With none set the app falls back to a development key that is in this file, and
therefore public: fine on a laptop, announced at start-up, refused in production.
"""

from .settings import Settings

# Public on purpose (it is in the repository): it only ever signs development tokens.
DEVELOPMENT_KEY = "storefront-development-key-never-use-it-in-production"
# RFC 7518 section 3.2: an HS256 key must be at least as long as the hash, 256 bits.
MIN_KEY_BYTES = 32


class InsecureConfiguration(RuntimeError):
    """The settings would run the app unsafely; it refuses to start."""


def signing_key(settings: Settings) -> tuple[str, bool]:
    """The key to sign tokens with, and whether it is the development key."""
    if settings.jwt_secret_key is None:
        if settings.environment == "production":
            raise InsecureConfiguration("WORKBOOK_JWT_SECRET_KEY must be set in production")
        return DEVELOPMENT_KEY, True
    key = settings.jwt_secret_key.get_secret_value()
    if key == DEVELOPMENT_KEY and settings.environment == "production":
        raise InsecureConfiguration("The development signing key is public; set a secret one in production")
    if len(key.encode("utf-8")) < MIN_KEY_BYTES:
        raise InsecureConfiguration(
            f"WORKBOOK_JWT_SECRET_KEY must be at least {MIN_KEY_BYTES} bytes for HS256 (RFC 7518, section 3.2)"
        )
    return key, False
