"""The pitfalls stage 06 corrects, each shown failing and then fixed."""

import base64
import hashlib
import hmac
import json
import sys
import time
import warnings
from datetime import UTC, datetime, timedelta
from typing import Annotated

import bcrypt
import jwt
import passlib
import pytest
from fastapi import Depends, FastAPI
from fastapi.security import APIKeyHeader, APIKeyQuery, HTTPBearer, OAuth2, OAuth2PasswordBearer, OpenIdConnect
from fastapi.testclient import TestClient
from jose import jwt as jose_jwt
from jose.exceptions import JWTError
from passlib.context import CryptContext
from passlib.exc import PasswordTruncateError

from lessons.s06_oauth2_jwt.jose_codec import JoseCodec
from lessons.s06_oauth2_jwt.models import User
from lessons.s06_oauth2_jwt.passwords import PasswordHasher
from lessons.s06_oauth2_jwt.pyjwt_codec import PyJWTCodec
from lessons.s06_oauth2_jwt.schemas import UserOut
from lessons.s06_oauth2_jwt.tokens import InvalidToken, TokenService

from ..auth_helpers import ACME, ADA, bearer, log_in, register

# --- passlib 1.7.4 with bcrypt 4.1+ / 5, and bcrypt's 72 bytes ---------------------------------


def test_pitfall_bcrypt_5_refuses_what_passlib_1_7_4_does_on_its_first_hash():
    # passlib 1.7.4 reads bcrypt.__about__.__version__ (gone since bcrypt 4.1): it traps that
    # error and logs it, and works on. Then it probes for an old bcrypt bug by hashing a
    # 255-byte secret: bcrypt 4.1 to 4.3 truncate it silently, bcrypt 5 refuses it, so with
    # bcrypt 5 that probe, and with it passlib 1.7.4, fails.
    assert not hasattr(bcrypt, "__about__")
    with pytest.raises(ValueError, match="72 bytes"):
        bcrypt.hashpw(b"x" * 255, bcrypt.gensalt(4))


def test_fixed_libpass_is_the_passlib_we_import_and_it_works_with_bcrypt_5():
    assert tuple(int(part) for part in passlib.__version__.split(".")[:2]) >= (1, 9)
    assert int(bcrypt.__version__.split(".")[0]) >= 5
    context = CryptContext(schemes=["bcrypt"], bcrypt__rounds=4)
    password_hash = context.hash("correct horse battery")
    assert context.verify("correct horse battery", password_hash)
    assert not context.verify("correct horse batterY", password_hash)


def test_libpass_with_bcrypt_5_refuses_a_long_password_instead_of_truncating_it():
    # No silent truncation any more, but no friendly answer either: bcrypt's own ValueError
    # (or passlib's PasswordTruncateError when asked for it). Hence the stage's stated rule.
    with pytest.raises(ValueError, match="72 bytes"):
        CryptContext(schemes=["bcrypt"], bcrypt__rounds=4).hash("p" * 73)
    with pytest.raises(PasswordTruncateError):
        CryptContext(schemes=["bcrypt"], bcrypt__rounds=4, bcrypt__truncate_error=True).hash("p" * 73)


def old_bcrypt_hash(password: bytes, salt: bytes) -> bytes:
    """What bcrypt before 5.0 did with a long password: used the first 72 bytes, silently."""
    return bcrypt.hashpw(password[:72], salt)


def test_pitfall_older_bcrypt_made_passwords_sharing_72_bytes_the_same_password():
    prefix = "my favourite sentence is long enough to fill bcrypt's whole input: 01234"
    assert len(prefix.encode()) == 72
    mine, attacker = (prefix + "and this is my secret ending").encode(), (prefix + "anything at all").encode()
    stored = old_bcrypt_hash(mine, bcrypt.gensalt(4))
    assert old_bcrypt_hash(attacker, stored) == stored  # a different password, accepted


def test_pitfall_bcrypt_5_raises_so_a_naive_app_answers_500():
    naive = FastAPI()

    @naive.post("/register")
    def register_naively(password: str) -> str:
        return bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()

    with TestClient(naive, raise_server_exceptions=False) as client:
        assert client.post("/register", params={"password": "é" * 40}).status_code == 500


def test_fixed_the_stage_states_the_72_byte_rule_as_a_422(client):
    password = "é" * 37  # 37 characters, 74 bytes
    response = client.post("/users/register", json={**ADA, "password": password}, headers=ACME)
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == (
        "Value error, The password must be at most 72 bytes in UTF-8 (bcrypt reads no more); this one is 74 bytes"
    )
    assert password not in response.text  # and the password is not echoed back


def test_fixed_72_bytes_exactly_is_accepted_and_every_byte_counts(client):
    prefix = "p" * 71
    register(client, {**ADA, "password": prefix + "1"})
    log_in(client, ADA["email"], prefix + "1")
    other = client.post("/token", data={"username": ADA["email"], "password": prefix + "2"}, headers=ACME)
    assert (other.status_code, other.json()["error"]) == (400, "invalid_grant")


def test_fixed_the_hasher_never_truncates():
    hasher = PasswordHasher(rounds=4)
    stored = hasher.hash("p" * 72)
    assert not hasher.verify("p" * 72 + "anything", stored)


# --- python-jose before 3.4, and letting the token choose its algorithm ----------------------------

KEY = "the-servers-own-secret-of-32-bytes!!"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def naive_verify(token: str, key: str) -> dict:
    """A verifier that lets the token's header say how to check it: the bug behind alg=none
    forgeries and algorithm confusion (python-jose before 3.4 among others)."""
    header_b64, payload_b64, signature_b64 = token.split(".")
    alg = json.loads(b64decode(header_b64))["alg"]
    if alg.lower() != "none":
        digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[alg]
        expected = hmac.new(key.encode(), f"{header_b64}.{payload_b64}".encode(), digest).digest()
        if not hmac.compare_digest(expected, b64decode(signature_b64)):
            raise ValueError("bad signature")
    return json.loads(b64decode(payload_b64))


def unsigned_token(header: dict, claims: dict, signature: bytes = b"") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.{b64(signature)}"


def forged_claims() -> dict:
    now = int(datetime.now(UTC).timestamp())
    return {"sub": "1", "scopes": ["admin"], "iat": now, "nbf": now, "exp": now + 600}


def test_pitfall_a_verifier_that_trusts_the_header_accepts_an_unsigned_token():
    unsigned = unsigned_token({"alg": "none"}, forged_claims())
    assert naive_verify(unsigned, KEY)["scopes"] == ["admin"]


def test_pitfall_algorithm_confusion_a_public_key_used_as_an_hmac_secret():
    # A server that verifies RS256 with its PUBLIC key, through a verifier that
    # lets the header say HS256, checks an HMAC made with that public key: which
    # anyone can make, since the key is public.
    public_key = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE...\n-----END PUBLIC KEY-----\n"
    header, payload = b64(b'{"alg":"HS256"}'), b64(json.dumps(forged_claims()).encode())
    signature = hmac.new(public_key.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    forged = f"{header}.{payload}.{b64(signature)}"
    assert naive_verify(forged, public_key)["scopes"] == ["admin"]
    # PyJWT refuses to use a PEM key as an HMAC secret at all.
    with pytest.raises(jwt.InvalidKeyError):
        jwt.decode(forged, public_key, algorithms=["HS256"])


@pytest.fixture(params=[PyJWTCodec(), JoseCodec()], ids=lambda codec: codec.name)
def tokens(request) -> TokenService:
    return TokenService(
        KEY,
        codec=request.param,
        issuer="storefront-api",
        audience="storefront",
        access_lifetime=timedelta(minutes=15),
        refresh_lifetime=timedelta(days=7),
    )


def test_fixed_either_library_with_the_algorithm_pinned_refuses_both(tokens):
    unsigned = unsigned_token({"alg": "none"}, forged_claims())
    rs256 = unsigned_token({"alg": "RS256"}, forged_claims(), b"signature")
    for token in (unsigned, rs256):
        with pytest.raises(InvalidToken, match="not valid"):
            tokens.decode(token, expected="access")


def test_pitfall_python_jose_without_an_algorithm_list_lets_the_header_choose():
    # PyJWT refuses to decode without the list; python-jose takes the header's word for it.
    hs512 = jose_jwt.encode(forged_claims(), KEY, algorithm="HS512")
    assert jose_jwt.decode(hs512, KEY)["scopes"] == ["admin"]
    with pytest.raises(jwt.DecodeError, match="algorithms"):
        jwt.decode(hs512, KEY)
    with pytest.raises(JWTError, match="alg value is not allowed"):
        jose_jwt.decode(hs512, KEY, algorithms=["HS256"])


def test_pitfall_python_jose_accepts_a_token_issued_in_the_future():
    future = {**forged_claims(), "iat": int(datetime.now(UTC).timestamp()) + 3600}
    token = jose_jwt.encode(future, KEY, algorithm="HS256")
    assert jose_jwt.decode(token, KEY, algorithms=["HS256"])["sub"] == "1"
    with pytest.raises(jwt.ImmatureSignatureError):
        jwt.decode(token, KEY, algorithms=["HS256"])


def test_fixed_the_jose_adapter_refuses_a_token_issued_in_the_future():
    tokens = TokenService(
        KEY,
        codec=JoseCodec(),
        issuer="storefront-api",
        audience="storefront",
        access_lifetime=timedelta(minutes=15),
        refresh_lifetime=timedelta(days=7),
    )
    issued = tokens.issue("access", user_id=1, tenant="acme", version=0, scopes=["me"], family="f" * 32)
    claims = jwt.decode(issued.token, options={"verify_signature": False})
    future = tokens.encode({**claims, "iat": claims["iat"] + 3600})
    with pytest.raises(InvalidToken, match="not valid"):
        tokens.decode(future, expected="access")


# --- datetime.utcnow(): naive and deprecated; PyJWT reads it as UTC, .timestamp() does not ----------


@pytest.fixture
def local_time_zone(monkeypatch):
    """Run the test as on a machine whose clock is set to the given zone."""

    def use(zone: str) -> None:
        monkeypatch.setenv("TZ", zone)
        time.tzset()

    yield use
    monkeypatch.undo()
    time.tzset()


def naive_expiry(minutes: int) -> int:
    with warnings.catch_warnings():  # deprecated since Python 3.12
        warnings.simplefilter("ignore", DeprecationWarning)
        now = datetime.utcnow()
    return int((now + timedelta(minutes=minutes)).timestamp())  # a naive time is read as LOCAL time


def test_pitfall_utcnow_is_naive():
    with warnings.catch_warnings():  # and deprecated since Python 3.12
        warnings.simplefilter("ignore", DeprecationWarning)
        assert datetime.utcnow().tzinfo is None, "naive: nothing in the value says it is UTC"


def utcnow() -> datetime:
    with warnings.catch_warnings():  # deprecated since Python 3.12
        warnings.simplefilter("ignore", DeprecationWarning)
        return datetime.utcnow()


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/Sao_Paulo"])
def test_pyjwt_and_python_jose_read_a_naive_datetime_claim_as_utc(local_time_zone, zone):
    # The usual code hands the datetime to the library, which converts it as UTC: not hours off.
    local_time_zone(zone)
    for library in (jwt, jose_jwt):
        token = library.encode({"exp": utcnow() + timedelta(minutes=15)}, KEY, algorithm="HS256")
        minutes_left = (library.decode(token, KEY, algorithms=["HS256"])["exp"] - time.time()) / 60
        assert round(minutes_left) == 15


def test_pitfall_utcnow_is_deprecated_from_python_3_12():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        datetime.utcnow()
    deprecated = any(issubclass(warning.category, DeprecationWarning) for warning in caught)
    assert deprecated == (sys.version_info >= (3, 12))


def test_pitfall_a_naive_and_an_aware_datetime_cannot_be_compared():
    with pytest.raises(TypeError, match="offset-naive and offset-aware"):
        assert utcnow() < datetime.now(UTC)


@pytest.mark.parametrize(("zone", "hours_off"), [("Asia/Tokyo", -9), ("America/Sao_Paulo", 3), ("UTC", 0)])
def test_pitfall_utcnow_timestamp_is_off_by_the_local_offset(local_time_zone, zone, hours_off):
    local_time_zone(zone)
    intended = int((datetime.now(UTC) + timedelta(minutes=15)).timestamp())
    assert round((naive_expiry(15) - intended) / 3600) == hours_off


def test_pitfall_in_tokyo_a_utcnow_token_is_born_expired(local_time_zone):
    local_time_zone("Asia/Tokyo")
    token = jwt.encode({"sub": "1", "exp": naive_expiry(15)}, KEY, algorithm="HS256")
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(token, KEY, algorithms=["HS256"])


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/Sao_Paulo", "UTC"])
def test_fixed_aware_utc_times_give_the_same_expiry_in_every_zone(local_time_zone, tokens, zone):
    local_time_zone(zone)
    issued = tokens.issue("access", user_id=1, tenant="acme", version=0, scopes=["me"], family="f" * 32)
    assert issued.claims.exp - int(time.time()) in range(899, 901)
    assert tokens.decode(issued.token, expected="access").user_id == 1


# --- Missing credentials answer 401, not 403 ----------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "challenge"),
    [
        (OAuth2PasswordBearer(tokenUrl="token"), "Bearer"),  # always 401
        (HTTPBearer(), "Bearer"),  # 403 before FastAPI 0.122, like the four below
        (APIKeyHeader(name="X-API-Key"), "APIKey"),
        (APIKeyQuery(name="api_key"), "APIKey"),
        (OAuth2(), "Bearer"),
        (OpenIdConnect(openIdConnectUrl="/.well-known/openid-configuration"), "Bearer"),
    ],
    ids=["oauth2-password", "http-bearer", "api-key-header", "api-key-query", "oauth2-base", "openid-connect"],
)
def test_pitfall_missing_credentials_answer_401_where_older_code_expects_403(scheme, challenge):
    demo = FastAPI()

    @demo.get("/secret")
    def secret(token: Annotated[object, Depends(scheme)]) -> str:
        return "secret"

    with TestClient(demo) as client:
        response = client.get("/secret")
    # Tests and clients written for FastAPI before 0.122 expect 403 here.
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == challenge


def test_fixed_the_stage_answers_401_without_a_token_and_403_only_for_a_missing_scope(client):
    register(client, ADA)
    pair = log_in(client, ADA["email"], ADA["password"])
    without = client.delete("/admin/users/1", headers=ACME)
    customer = client.delete("/admin/users/1", headers=bearer(pair["access_token"]))
    assert (without.status_code, customer.status_code) == (401, 403)
    assert without.headers["www-authenticate"] == "Bearer"
    assert customer.headers["www-authenticate"] == 'Bearer error="insufficient_scope", scope="admin"'


# --- Returning the ORM row: every column goes out, the password hash too -----------------------------


def scratch_app_returning(user: User) -> FastAPI:
    scratch = FastAPI()

    @scratch.get("/leaky")
    def leaky():  # no return annotation, no response_model: FastAPI serialises the row as it is
        return user

    @scratch.get("/safe")
    def safe() -> UserOut:  # what the stage's routes declare
        return user

    return scratch


def test_pitfall_an_orm_row_returned_without_a_response_model_leaks_its_password_hash():
    ada = User(id=2, email=ADA["email"], name=ADA["name"], password_hash="$2b$04$hash", is_admin=False, token_version=0)
    with TestClient(scratch_app_returning(ada)) as client:
        leaked = client.get("/leaky").json()
        safe = client.get("/safe").json()
    assert leaked["password_hash"] == "$2b$04$hash" and "token_version" in leaked
    assert safe == {"id": 2, "email": ADA["email"], "name": ADA["name"], "is_admin": False}


def test_fixed_no_route_of_the_stage_answers_with_a_password_hash(client):
    user = register(client, ADA)
    pair = log_in(client, ADA["email"], ADA["password"])
    answers = [user, client.get("/users/me", headers=bearer(pair["access_token"])).json()]
    answers.append(client.get(f"/users/{user['id']}", headers=bearer(pair["access_token"])).json())
    assert [sorted(answer) for answer in answers] == [sorted(UserOut.model_fields)] * 3
