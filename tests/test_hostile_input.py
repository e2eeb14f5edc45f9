"""Input a client may send, answered with a clear 4xx by every stage that takes it, never a 500.

Each test runs against every stage whose API has the route it needs, found in the
stage's own OpenAPI schema, so a stage added later is covered without editing this
file. The property-based sweep over whole schemas is tests/test_api_schema.py; these
are the cases it once found, kept as plain examples that name the fault.
"""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from workbook.stages import load_stages

from .auth_helpers import stage_module
from .problems import problems
from .stage_apps import StageApp, stage_app_for

ACME = {"X-Tenant-ID": "acme"}


def stages_with(predicate) -> list:
    """One parameter per stage whose OpenAPI paths satisfy `predicate`, its id the stage's number."""
    stages = [stage for stage in load_stages() if predicate(stage_app_for(stage).app.openapi()["paths"])]
    return [pytest.param(stage, id=stage.number) for stage in stages]


def registration_path(paths: dict) -> str | None:
    return next((path for path in ("/users/register", "/users") if "post" in paths.get(path, {})), None)


@pytest.fixture
def stage_app(request) -> StageApp:
    return stage_app_for(request.param)


REGISTERING = stages_with(registration_path)
WITH_USER_IDS = stages_with(lambda paths: "/users/{user_id}/profile-image" in paths)


def register_with(client: TestClient, **fields):
    path = registration_path(client.app.openapi()["paths"])
    body = {"email": "ada@example.com", "name": "Ada", "password": "correct horse battery", **fields}
    return client.post(path, json=body, headers=ACME)


@pytest.mark.parametrize("stage_app", REGISTERING, indirect=True)
def test_a_lone_surrogate_in_a_json_string_is_a_422_that_can_be_sent(client):
    # JSON may carry "\ud800", half of a surrogate pair, which no UTF-8 text can hold:
    # repeating it verbatim in the 422 made the response itself fail.
    response = client.post(
        registration_path(client.app.openapi()["paths"]),
        content=b'{"email": "ada@example.com", "name": "\\ud800", "password": "correct horse battery"}',
        headers={**ACME, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    problem = problems(response)[0]
    assert problem["loc"] == ["body", "name"], problem
    assert problem.get("input") == "\\ud800", f"the value is repeated as its escape, got {problem.get('input')!r}"


@pytest.mark.parametrize("stage_app", REGISTERING, indirect=True)
def test_a_422_repeats_at_most_a_short_part_of_what_was_sent(client):
    huge = "x" * 2_000_000
    response = register_with(client, name=huge)
    assert response.status_code == 422, response.text[:300]
    assert len(response.content) < 2_000, f"a 2 MB name came back as a {len(response.content):,}-byte error"
    assert problems(response)[0]["input"].endswith("…"), "the echo says it was cut"


@pytest.mark.parametrize("stage_app", REGISTERING, indirect=True)
def test_a_whole_object_is_not_repeated_in_a_422(client):
    response = client.post(
        registration_path(client.app.openapi()["paths"]), json={"unexpected": ["a"] * 100_000}, headers=ACME
    )
    assert response.status_code == 422
    assert len(response.content) < 2_000, f"the body came back in a {len(response.content):,}-byte error"


# PostgreSQL's text types have no NUL character: refused at validation, not a 500 at the INSERT.
@pytest.mark.services
@pytest.mark.parametrize("stage_app", REGISTERING, indirect=True)
@pytest.mark.parametrize("name", ["Ada\x00Lovelace", "Ada\x00"], ids=["inside", "at-the-end"])
def test_a_name_with_a_nul_character_answers_422_and_writes_nothing(client, name):
    response = register_with(client, name=name)
    assert response.status_code == 422, response.text
    problem = problems(response)[0]
    assert (problem["loc"], problem["msg"]) == (
        ["body", "name"],
        "Value error, The text must not contain the NUL character",
    )
    # Nothing was written: the same email registers afterwards as a new account, with its name.
    assert register_with(client, name="Ada Lovelace").status_code in (200, 201, 202)
    user = stage_module(client, "models").User
    state = client.app_state  # one database until stage 02 brings tenants, then one schema per tenant
    sessions = state["tenants"].get("acme").sessions if "tenants" in state else state["sessions"]
    with sessions() as session:
        assert session.scalars(select(user.name).where(user.email == "ada@example.com")).all() == ["Ada Lovelace"]


@pytest.mark.parametrize("stage_app", WITH_USER_IDS, indirect=True)
@pytest.mark.parametrize("user_id", ["2147483648", "9223372036854775808", "0", "-1"])
def test_an_id_the_database_cannot_hold_is_a_422(client, user_id):
    # PostgreSQL's INTEGER ends at 2**31 - 1 and SQLite's at 2**63 - 1: past either, the
    # driver raised and the client got a 500.
    response = client.get(f"/users/{user_id}/profile-image", headers=ACME)
    assert response.status_code == 422, (user_id, response.status_code, response.text)
    assert problems(response)[0]["loc"] == ["path", "user_id"]
