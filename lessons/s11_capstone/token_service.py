"""Building the app's one TokenService from the settings: its key and its lifetimes.

Both processes need it: the web app signs and checks tokens, and the worker signs
the confirmation code each welcome email carries (email_confirmation.py).
"""

from datetime import timedelta

import structlog

from .settings import Settings
from .signing_keys import signing_key
from .tokens import TokenService


def open_token_service(settings: Settings) -> TokenService:
    """Signs and checks the JWTs. Better to refuse a bad key now than on the first log-in."""
    key, is_development_key = signing_key(settings)
    if is_development_key:
        structlog.get_logger().warning(
            "jwt.development_key",
            detail="tokens are signed with the public development key; set WORKBOOK_JWT_SECRET_KEY",
        )
    return TokenService(
        key,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        access_lifetime=timedelta(minutes=settings.access_token_minutes),
        refresh_lifetime=timedelta(days=settings.refresh_token_days),
    )
