"""Production settings, checked at start-up: each laptop-only setting refused by name, and the
edge they configure (trusted hosts, CORS, trusted proxies) doing what they say."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import httpx2
import pytest
from fastapi.testclient import TestClient

from workbook.serving import free_port, proxy_arguments
from workbook.stages import ROOT

from ..auth_helpers import ACME
from ..stage_apps import StageApp

SECRET = "a-real-secret-of-forty-eight-characters-0123456"
SHOP = "shop.example.com"
SHOP_ORIGIN = "https://shop.example.com"
# A production configuration that passes every check. The TestClient calls itself "testserver".
GOOD = {
    "ENVIRONMENT": "production",
    "JWT_SECRET_KEY": SECRET,
    "SEED_DEMO_ADMINS": "false",
    "DEBUG": "false",
    "ALLOWED_HOSTS": json.dumps([SHOP, "testserver"]),
    "CORS_ORIGINS": json.dumps([SHOP_ORIGIN]),
    "TRUSTED_PROXIES": json.dumps(["10.0.0.5"]),
}
# Each misconfiguration: the settings changed from GOOD, and the variable the refusal must name.
BAD = {
    "no signing key": ({"JWT_SECRET_KEY": None}, "WORKBOOK_JWT_SECRET_KEY"),
    "the development key": (
        {"JWT_SECRET_KEY": "storefront-development-key-never-use-it-in-production"},
        "WORKBOOK_JWT_SECRET_KEY",
    ),
    "demo admins": ({"SEED_DEMO_ADMINS": "true"}, "WORKBOOK_SEED_DEMO_ADMINS"),
    "debug": ({"DEBUG": "true"}, "WORKBOOK_DEBUG"),
    "allowed hosts left at any": ({"ALLOWED_HOSTS": None}, "WORKBOOK_ALLOWED_HOSTS"),
    "allowed hosts set to any": ({"ALLOWED_HOSTS": json.dumps(["*"])}, "WORKBOOK_ALLOWED_HOSTS"),
    "any CORS origin": ({"CORS_ORIGINS": json.dumps(["*", SHOP_ORIGIN])}, "WORKBOOK_CORS_ORIGINS"),
    "any proxy trusted": ({"TRUSTED_PROXIES": json.dumps(["*"])}, "WORKBOOK_TRUSTED_PROXIES"),
}


def configure(monkeypatch, settings: dict[str, str | None]) -> None:
    for name, value in settings.items():
        if value is None:
            monkeypatch.delenv(f"WORKBOOK_{name}", raising=False)
        else:
            monkeypatch.setenv(f"WORKBOOK_{name}", value)


def start(stage_app: StageApp) -> None:
    for _ in stage_app.serve():
        pass


@pytest.fixture
def production(auth_env, monkeypatch) -> None:
    configure(monkeypatch, GOOD)


@pytest.mark.parametrize("change", BAD.values(), ids=BAD.keys())
def test_each_misconfiguration_stops_start_up_naming_its_setting(production, stage_app, monkeypatch, change):
    settings, variable = change
    configure(monkeypatch, settings)
    insecure = stage_app.module("signing_keys").InsecureConfiguration
    with pytest.raises(insecure) as refusal:
        start(stage_app)
    message = str(refusal.value)
    assert variable in message, f"the refusal should name {variable}: {message}"
    assert message.count("\n  - ") == 1, f"only the one setting that is wrong: {message}"


def test_every_misconfiguration_is_named_in_one_message(production, stage_app, monkeypatch):
    for settings, _ in BAD.values():
        configure(monkeypatch, settings)
    configure(monkeypatch, {"JWT_SECRET_KEY": None})  # two changes touch the key: keep the first
    insecure = stage_app.module("signing_keys").InsecureConfiguration
    with pytest.raises(insecure) as refusal:
        start(stage_app)
    message = str(refusal.value)
    named = {variable for _, variable in BAD.values()}
    assert all(variable in message for variable in named), message
    assert message.count("\n  - ") == len(named), f"one line per setting: {message}"


def test_the_same_settings_outside_production_start(auth_env, stage_app, monkeypatch):
    configure(monkeypatch, {"DEBUG": "true", "ALLOWED_HOSTS": json.dumps(["*"]), "CORS_ORIGINS": json.dumps(["*"])})
    for client in stage_app.serve():
        assert client.get("/health").status_code == 200


@pytest.fixture
def shop(production, stage_app) -> Iterator[TestClient]:
    """The app under the good production configuration, called as https://shop.example.com."""
    yield from stage_app.serve(base_url=f"https://{SHOP}")


def test_a_correct_production_configuration_starts_and_serves(shop):
    assert shop.get("/health/ready").status_code == 200
    products = shop.get("/products", headers=ACME)
    assert products.status_code == 200 and products.json(), "the catalogue is served"
    demo = {"username": "admin@acme.example", "password": "storefront-demo-admin"}
    refused = shop.post("/token", data=demo, headers=ACME)
    assert refused.status_code == 400, "no demo admin exists in production"


def test_a_host_not_allowed_answers_400_before_any_route(shop):
    assert shop.get("/health", headers={"Host": SHOP}).status_code == 200
    assert shop.get("/health", headers={"Host": "testserver"}).status_code == 200
    for host in ("evil.example", f"www.{SHOP}", f"{SHOP}.evil.example"):
        answer = shop.get("/health", headers={"Host": host})
        assert answer.status_code == 400, f"Host {host} must be refused, got {answer.status_code}"


PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,x-tenant-id"}


def test_a_preflight_from_an_allowed_origin_is_answered_with_the_named_methods_and_headers(shop):
    answer = shop.options("/orders", headers={"Origin": SHOP_ORIGIN, **PREFLIGHT})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == SHOP_ORIGIN
    assert answer.headers["access-control-allow-credentials"] == "true", "named origins may send the log-in"
    assert "*" not in answer.headers["access-control-allow-methods"]
    assert {"POST", "DELETE"} <= set(answer.headers["access-control-allow-methods"].split(", "))
    assert "x-tenant-id" in answer.headers["access-control-allow-headers"].lower()


def test_another_origin_gets_no_cors_headers(shop):
    preflight = shop.options("/orders", headers={"Origin": "https://evil.example", **PREFLIGHT})
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    simple = shop.get("/products", headers={"Origin": "https://evil.example", **ACME})
    assert simple.status_code == 200, "the request is served: it is the browser that withholds the answer"
    assert "access-control-allow-origin" not in simple.headers
    allowed = shop.get("/products", headers={"Origin": SHOP_ORIGIN, **ACME})
    assert allowed.headers["access-control-allow-origin"] == SHOP_ORIGIN


def test_without_named_origins_there_are_no_cors_headers_at_all(auth_env, stage_app):
    for client in stage_app.serve():
        answer = client.options("/orders", headers={"Origin": SHOP_ORIGIN, **PREFLIGHT})
        assert "access-control-allow-origin" not in answer.headers
        assert answer.status_code == 405, "no CORS: the preflight is just an OPTIONS no route answers"


# --- A real server ------------------------------------------------------------------------------


def test_a_real_uvicorn_process_with_a_bad_production_setting_exits_with_the_message(stage_app, tmp_path):
    env = {name: value for name, value in os.environ.items() if not name.startswith("WORKBOOK_")}
    env |= {f"WORKBOOK_{name}": value for name, value in GOOD.items()}
    env |= {"WORKBOOK_DATABASE_URL": f"sqlite:///{tmp_path}/storefront.db", "WORKBOOK_DEBUG": "true"}
    command = [sys.executable, "-m", "uvicorn", stage_app.import_path, "--port", str(free_port())]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode != 0, f"the server must not run: {output[-2000:]}"
    assert "Refusing to start in production" in output and "WORKBOOK_DEBUG is on" in output, output[-2000:]


LIMIT = 3
PROXY, STRANGER = "127.0.0.1", "127.0.0.2"  # two peers on loopback: the proxy, and a caller who is not one


def refused(url: str, peer: str, forwarded_for: list[str]) -> list[bool]:
    """One GET /products from `peer` per X-Forwarded-For value; True where the rate limit refused it."""
    with httpx2.Client(transport=httpx2.HTTPTransport(local_address=peer), base_url=url, headers=ACME) as client:
        codes = [client.get("/products", headers={"X-Forwarded-For": ip}).status_code for ip in forwarded_for]
    assert set(codes) <= {200, 429}, codes
    return [code == 429 for code in codes]


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(auth_env, stage_app, monkeypatch):
    configure(monkeypatch, {"RATE_LIMIT_PER_MINUTE": str(LIMIT), "TRUSTED_PROXIES": json.dumps([PROXY])})
    with stage_app.running() as url:  # served with the stage's own proxy settings, as every launcher does
        through_proxy = refused(url, PROXY, [f"203.0.113.{n}" for n in range(LIMIT + 2)])
        stranger = refused(url, STRANGER, [f"198.51.100.{n}" for n in range(LIMIT + 1)])
    assert through_proxy == [False] * (LIMIT + 2), "through the proxy, each client has a count of its own"
    assert stranger == [False] * LIMIT + [True], "from anyone else the header is ignored: one count, the peer's"


def test_a_launcher_reads_the_trusted_proxies_of_the_environment_it_starts_the_server_with(stage_app, monkeypatch):
    monkeypatch.delenv("WORKBOOK_TRUSTED_PROXIES", raising=False)
    assert proxy_arguments(stage_app.import_path) == ["--no-proxy-headers"]
    env = {"WORKBOOK_TRUSTED_PROXIES": json.dumps(["10.0.0.5", "10.0.0.6"])}
    assert proxy_arguments(stage_app.import_path, env) == ["--forwarded-allow-ips", "10.0.0.5,10.0.0.6"]
    assert "WORKBOOK_TRUSTED_PROXIES" not in os.environ, "the launcher's own environment is left as it was"


# --- The pool arithmetic counts the worker -----------------------------------------------------


def test_the_pool_check_counts_the_celery_workers_processes_and_names_the_settings(stage_app):
    sizing = stage_app.module("pool_sizing")
    limits = sizing.ServerLimits(max_connections=100, superuser_reserved=3)
    assert sizing.check_pool_fits(6, 5, 10, limits, worker_processes=7) == 0, "90 + 7 fills the 97 usable"
    with pytest.raises(sizing.PoolTooLarge) as refusal:
        sizing.check_pool_fits(6, 5, 10, limits, worker_processes=8)
    message = str(refusal.value)
    assert "= 90 connections + 8 Celery worker processes x 1 = 98" in message, message
    for variable in ("WORKBOOK_WORKERS", "WORKBOOK_POOL_SIZE", "WORKBOOK_MAX_OVERFLOW", "WORKBOOK_WORKER_CONCURRENCY"):
        assert variable in message, f"{variable} missing from: {message}"


def test_each_worker_process_keeps_the_one_connection_the_check_counts(stage_app):
    sizing = stage_app.module("pool_sizing")
    options = sizing.worker_pool_options(stage_app.module("settings").Settings())
    assert (options["pool_size"], options["max_overflow"]) == (sizing.WORKER_PROCESS_CONNECTIONS, 0)
