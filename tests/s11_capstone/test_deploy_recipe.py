"""The deploy recipe (deploy/: Dockerfile, compose.yaml; the root's .dockerignore), checked without Docker.

No image is built here: what can be known from the files is checked against the stage itself. Every
WORKBOOK_* variable the recipe sets is a setting of the stage, with a value its Settings accepts; the
stage starts in production with exactly those settings (and refuses to without the secret ones); the
connection pools of every process fit PostgreSQL's max_connections; the image is built in two stages, runs
as a user that is not root, checks its own liveness with Python, installs the lock by its hashes, and
serves the stage's app with uvicorn's worker processes.
"""

import json
import re
import shlex
import subprocess

import pytest
import yaml

from workbook.stages import ROOT, get_stage

from .conftest import STAGE as STAGE_APP

DEPLOY = ROOT / "deploy"
STAGE = get_stage("11")
SETTINGS = STAGE_APP.module("settings").Settings
PREFIX = SETTINGS.model_config["env_prefix"]
SERVICES = {"proxy", "migrate", "api", "worker", "beat", "postgres", "redis"}
APP_SERVICES = ("migrate", "api", "worker", "beat")  # the ones that run the stage's code and read its settings


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def env_file(name: str) -> dict[str, str]:
    """A KEY=value file, as Docker reads it: blank lines and comments skipped."""
    lines = (line.strip() for line in (DEPLOY / name).read_text().splitlines())
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def app_environment(service: str = "api") -> dict[str, str]:
    """What one of the app's containers is given: compose's environment, and its env_file (from the example)."""
    definition = compose()["services"][service]
    return {**env_file(f"{definition['env_file']}.example"), **definition["environment"]}


def workbook_variables() -> list[tuple[str, str]]:
    found = {name: value for service in APP_SERVICES for name, value in app_environment(service).items()}
    return sorted((name, value) for name, value in found.items() if name.startswith(PREFIX))


def dockerfile() -> str:
    # Continued lines joined, comments dropped: one instruction per line.
    lines = [line for line in (DEPLOY / "Dockerfile").read_text().splitlines() if not line.lstrip().startswith("#")]
    return re.sub(r"\\\n\s*", " ", "\n".join(lines))


def instructions(keyword: str) -> list[str]:
    return [line.split(None, 1)[1] for line in dockerfile().splitlines() if line.split(None, 1)[:1] == [keyword]]


def test_compose_runs_the_proxy_migrations_the_api_the_worker_beat_postgresql_and_redis():
    services = compose()["services"]
    assert set(services) == SERVICES
    assert services["api"]["deploy"]["replicas"] >= 2, "several API replicas behind the proxy"
    worker_module = f"lessons.{STAGE.package}.worker"
    for name, role in (("worker", " worker "), ("beat", " beat ")):
        command = services[name]["command"]
        assert worker_module in command and role in command, f"{name} runs the stage's Celery app: {command}"
    assert "replicas" not in services["beat"].get("deploy", {}), "exactly one beat: each periodic job is sent once"


def test_the_migrations_run_once_before_any_process_of_the_stage_starts():
    services = compose()["services"]
    assert services["migrate"]["command"].split()[:3] == ["python", "-m", f"lessons.{STAGE.package}.migrate"]
    assert (STAGE.directory / "migrate.py").is_file(), "the command the migrate service runs exists"
    for name in ("api", "worker", "beat"):
        waits = services[name]["depends_on"].get("migrate", {})
        assert waits.get("condition") == "service_completed_successfully", f"{name} waits for the migrations"
    assert services["api"]["environment"]["WORKBOOK_MIGRATE_AT_STARTUP"] == "false", "the processes only check"


@pytest.mark.parametrize(("name", "value"), workbook_variables(), ids=[name for name, _ in workbook_variables()])
def test_every_workbook_variable_is_a_setting_of_the_stage_with_a_value_it_accepts(name, value, monkeypatch):
    field = name.removeprefix(PREFIX).lower()
    assert field in SETTINGS.model_fields, f"{name} is not a setting of stage {STAGE.number}: a typo?"
    monkeypatch.setenv(name, value)
    SETTINGS()  # a value it refuses raises ValidationError, naming the setting


def production_env(monkeypatch, tmp_path) -> None:
    """The API container's settings, but its database, Redis and broker the embedded ones of a test."""
    for name, value in app_environment("api").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WORKBOOK_DATABASE_URL", f"sqlite:///{tmp_path}/storefront.db")
    monkeypatch.setenv("WORKBOOK_MEDIA_DIR", str(tmp_path))
    for name in ("WORKBOOK_REDIS_URL", "WORKBOOK_BROKER_URL", "WORKBOOK_RESULT_BACKEND"):
        monkeypatch.delenv(name)


def test_the_stage_starts_in_production_with_the_recipes_settings(stage_app, monkeypatch, tmp_path):
    production_env(monkeypatch, tmp_path)
    assert SETTINGS().environment == "production"
    stage_app.module("settings").get_settings.cache_clear()
    assert stage_app.module("migrate").main(["upgrade"]) == 0, "the migrate service's command, run first"
    host = json.loads(app_environment()["WORKBOOK_ALLOWED_HOSTS"])[0]
    for client in stage_app.serve(base_url=f"http://{host}"):
        assert client.get("/health/live").status_code == 200


@pytest.mark.parametrize(("name", "value"), [("WORKBOOK_JWT_SECRET_KEY", None), ("WORKBOOK_SEED_DEMO_ADMINS", "true")])
def test_without_one_of_its_production_settings_the_stage_refuses_to_start(
    name, value, stage_app, monkeypatch, tmp_path
):
    """The check above could not pass by accident: production start-up does demand these."""
    production_env(monkeypatch, tmp_path)
    if value is None:
        monkeypatch.delenv(name)
    else:
        monkeypatch.setenv(name, value)
    with pytest.raises(Exception, match=name):
        for _ in stage_app.serve():
            pass


def test_the_secrets_come_from_an_env_file_that_git_ignores():
    for service in APP_SERVICES:
        definition = compose()["services"][service]
        assert {"WORKBOOK_JWT_SECRET_KEY", "WORKBOOK_DATABASE_URL"}.isdisjoint(definition["environment"])
        ignored = subprocess.run(["git", "check-ignore", "-q", f"deploy/{definition['env_file']}"], cwd=ROOT)
        assert ignored.returncode == 0, f"deploy/{definition['env_file']} must never be committed"


def test_every_processs_connection_pool_fits_postgresqls_max_connections():
    services = compose()["services"]
    pool_sizing = STAGE_APP.module("pool_sizing")
    api = app_environment("api")
    per_process = int(api["WORKBOOK_POOL_SIZE"]) + int(api["WORKBOOK_MAX_OVERFLOW"])
    api_processes = services["api"]["deploy"]["replicas"] * int(api["WORKBOOK_WORKERS"])
    [concurrency] = re.findall(r"--concurrency=(\d+)", services["worker"]["command"])
    needed = pool_sizing.connections_needed(api_processes + int(concurrency), per_process, 0)
    [max_connections] = re.findall(r"max_connections=(\d+)", " ".join(services["postgres"]["command"]))
    limits = pool_sizing.ServerLimits(max_connections=int(max_connections), superuser_reserved=3)
    assert needed <= limits.usable, f"{needed} connections at most, but PostgreSQL accepts {limits.usable}"


def test_uvicorn_believes_forwarded_headers_from_the_proxy_alone_and_waits_out_the_grace():
    services = compose()["services"]
    api = app_environment("api")
    proxies = json.loads(api["WORKBOOK_TRUSTED_PROXIES"])
    assert api["FORWARDED_ALLOW_IPS"].split(",") == proxies, "uvicorn and the app trust the same proxies"
    assert services["proxy"]["networks"]["storefront"]["ipv4_address"] in proxies
    grace = int(api["WORKBOOK_SHUTDOWN_GRACE_SECONDS"])
    stop_after = int(services["api"]["stop_grace_period"].removesuffix("s"))
    assert stop_after > grace, "Docker's SIGKILL comes only after uvicorn's wait for the requests in flight"


def test_the_dockerfile_builds_in_two_stages_and_runs_as_a_user_that_is_not_root():
    stages = instructions("FROM")
    assert len(stages) >= 2, stages
    assert any("--from=" in copy for copy in instructions("COPY")), "the runtime copies the builder's environment"
    [user] = instructions("USER")
    assert user not in {"root", "0"}


def test_the_dockerfile_installs_the_lock_by_its_hashes():
    assert any(copy.split()[0] == "requirements.lock" for copy in instructions("COPY"))
    assert any("--require-hashes" in run and "requirements.lock" in run for run in instructions("RUN"))


def test_the_image_checks_its_liveness_with_python():
    [check] = instructions("HEALTHCHECK")
    assert "/health/live" in check and "python" in check and "curl" not in check


def test_the_image_serves_the_stage_with_uvicorns_worker_processes():
    [cmd] = instructions("CMD")
    command = shlex.split(json.loads(cmd)[-1])
    assert command[:2] == ["exec", "uvicorn"] and STAGE.app in command
    for option, value in (("--loop", "uvloop"), ("--http", "httptools"), ("--workers", "$WORKBOOK_WORKERS")):
        assert command[command.index(option) + 1] == value, option
    assert "--forwarded-allow-ips" in command and "--timeout-graceful-shutdown" in command


def test_the_build_context_lets_in_only_what_the_image_copies():
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignored, "everything is left out first"
    sources = [copy.split()[0] for copy in instructions("COPY") if not copy.startswith("--from")]
    for source in sources:
        assert f"!{source}" in ignored or f"!{source}/" in ignored, f"{source} is let back into the context"
    assert f"lessons/{STAGE.package}" in sources, "the stage's own folder"
