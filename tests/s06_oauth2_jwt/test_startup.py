"""The signing key and the demo admins: what the app says, and refuses, when it starts."""

from datetime import timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from lessons.s06_oauth2_jwt.jose_codec import JoseCodec
from lessons.s06_oauth2_jwt.main import app
from lessons.s06_oauth2_jwt.pyjwt_codec import PyJWTCodec
from lessons.s06_oauth2_jwt.settings import Settings, get_settings
from lessons.s06_oauth2_jwt.signing_keys import DEVELOPMENT_KEY, InsecureConfiguration, signing_key
from lessons.s06_oauth2_jwt.tokens import TokenService

from ..auth_helpers import ACME, log_in, log_in_as_admin
from .conftest import serve

SECRET = "a-real-secret-of-forty-eight-characters-0123456"


def start(monkeypatch, **env) -> None:
    for name, value in env.items():
        monkeypatch.setenv(f"WORKBOOK_{name.upper()}", value)
    get_settings.cache_clear()
    try:
        with TestClient(app):
            pass
    finally:
        get_settings.cache_clear()


def test_without_a_key_the_app_uses_the_development_key_and_says_so(auth_env, capsys):
    for client in serve():
        pair = log_in_as_admin(client)
    assert "jwt.development_key" in capsys.readouterr().out
    assert jwt.decode(pair["access_token"], DEVELOPMENT_KEY, algorithms=["HS256"], audience="storefront")["sub"]


def test_a_configured_key_signs_the_tokens_and_nothing_is_said(auth_env, monkeypatch, capsys):
    monkeypatch.setenv("WORKBOOK_JWT_SECRET_KEY", SECRET)
    for client in serve():
        pair = log_in_as_admin(client)
    assert "development_key" not in capsys.readouterr().out
    assert jwt.decode(pair["access_token"], SECRET, algorithms=["HS256"], audience="storefront")["tenant"] == "acme"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(pair["access_token"], DEVELOPMENT_KEY, algorithms=["HS256"], audience="storefront")


def test_production_refuses_to_start_without_a_key(auth_env, monkeypatch):
    with pytest.raises(InsecureConfiguration, match="must be set in production"):
        start(monkeypatch, environment="production", seed_demo_admins="false")


def test_production_refuses_the_development_key_even_when_set_explicitly(auth_env, monkeypatch):
    with pytest.raises(InsecureConfiguration, match="development signing key is public"):
        start(monkeypatch, environment="production", seed_demo_admins="false", jwt_secret_key=DEVELOPMENT_KEY)


@pytest.mark.parametrize("environment", ["development", "production"])
def test_a_key_too_short_for_hs256_is_refused_everywhere(auth_env, monkeypatch, environment):
    with pytest.raises(InsecureConfiguration, match="at least 32 bytes"):
        start(monkeypatch, environment=environment, seed_demo_admins="false", jwt_secret_key="s" * 31)


def test_production_refuses_demo_admins(auth_env, monkeypatch):
    with pytest.raises(InsecureConfiguration, match="SEED_DEMO_ADMINS=false"):
        start(monkeypatch, environment="production", jwt_secret_key=SECRET)


def test_production_starts_with_a_real_key_and_no_demo_admins(auth_env, monkeypatch):
    monkeypatch.setenv("WORKBOOK_ENVIRONMENT", "production")
    monkeypatch.setenv("WORKBOOK_JWT_SECRET_KEY", SECRET)
    monkeypatch.setenv("WORKBOOK_SEED_DEMO_ADMINS", "false")
    for client in serve():
        form = {"username": "admin@acme.example", "password": "storefront-demo-admin"}
        response = client.post("/token", data=form, headers=ACME)
        assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


def test_each_demo_tenant_has_its_admin_with_the_password_from_the_settings(auth_env, monkeypatch):
    monkeypatch.setenv("WORKBOOK_DEMO_ADMIN_PASSWORD", "chosen by the instructor")
    for client in serve():
        for tenant in ("acme", "globex"):
            pair = log_in(client, f"admin@{tenant}.example", "chosen by the instructor", {"X-Tenant-ID": tenant})
            assert pair["scope"] == "admin me"


def test_the_defaults_are_realistic():
    settings = Settings()
    assert settings.bcrypt_rounds == 12
    assert (settings.access_token_minutes, settings.refresh_token_days) == (15, 7)
    assert signing_key(Settings(jwt_secret_key=SECRET)) == (SECRET, False)


def test_a_jwt_library_the_app_does_not_have_an_adapter_for_stops_it_starting(auth_env, monkeypatch):
    with pytest.raises(ValidationError, match="'pyjwt' or 'jose'"):
        start(monkeypatch, jwt_library="authlib")


@pytest.mark.parametrize(("signer", "checker"), [(PyJWTCodec(), JoseCodec()), (JoseCodec(), PyJWTCodec())])
def test_a_token_signed_with_one_library_is_accepted_by_the_other(signer, checker):
    # The two adapters speak the same JWT: switching WORKBOOK_JWT_LIBRARY logs nobody out.
    def service(codec) -> TokenService:
        return TokenService(
            SECRET,
            codec=codec,
            issuer="storefront-api",
            audience="storefront",
            access_lifetime=timedelta(minutes=15),
            refresh_lifetime=timedelta(days=7),
        )

    issued = service(signer).issue("access", user_id=7, tenant="acme", version=2, scopes=["me"], family="f" * 32)
    assert service(checker).decode(issued.token, expected="access") == issued.claims
