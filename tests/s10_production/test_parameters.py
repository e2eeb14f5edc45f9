"""GET /products pages with limit and offset: plain query parameters, validated, bounded and documented.

Beside it, the overuse it replaces: a page size that only a dependency returns,
which the client cannot choose, /docs does not show, and a test can only change
with an override.
"""

from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from ..auth_helpers import ACME
from ..problems import problems

# The three products every tenant starts with, in SKU order.
SKUS = ["CAP-003", "MUG-001", "TEE-002"]


def skus(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [product["sku"] for product in response.json()]


def test_limit_and_offset_choose_the_page(client):
    assert skus(client.get("/products", headers=ACME)) == SKUS
    assert skus(client.get("/products?limit=2", headers=ACME)) == SKUS[:2]
    assert skus(client.get("/products?limit=2&offset=2", headers=ACME)) == SKUS[2:]
    assert skus(client.get("/products?offset=3", headers=ACME)) == []


def test_a_limit_or_offset_out_of_bounds_is_a_422_that_names_it(client, stage_app):
    paging = stage_app.module("paging")
    for query, loc in [
        ("limit=0", ["query", "limit"]),
        (f"limit={paging.MAX_LIMIT + 1}", ["query", "limit"]),
        ("offset=-1", ["query", "offset"]),
        (f"offset={paging.MAX_OFFSET + 1}", ["query", "offset"]),
        ("offset=99999999999999999999999", ["query", "offset"]),  # past any database integer
    ]:
        response = client.get(f"/products?{query}", headers=ACME)
        assert (response.status_code, [part["loc"] for part in problems(response)]) == (422, [loc]), query


def test_the_api_description_shows_the_parameters_with_their_bounds(client, stage_app):
    paging = stage_app.module("paging")
    parameters = {
        parameter["name"]: parameter["schema"]
        for parameter in client.get("/openapi.json").json()["paths"]["/products"]["get"]["parameters"]
        if parameter["in"] == "query"
    }
    assert parameters["limit"] | {"description": None} == {
        "type": "integer",
        "minimum": 1,
        "maximum": paging.MAX_LIMIT,
        "default": paging.DEFAULT_LIMIT,
        "title": "Limit",
        "description": None,
    }
    assert (parameters["offset"]["minimum"], parameters["offset"]["maximum"]) == (0, paging.MAX_OFFSET)


def get_page_size() -> int:
    return 20


def test_a_constant_behind_depends_is_invisible_to_the_client_and_only_an_override_changes_it():
    app = FastAPI()

    @app.get("/items")
    def items(page_size: Annotated[int, Depends(get_page_size)]) -> int:
        return page_size

    client = TestClient(app)
    assert "parameters" not in app.openapi()["paths"]["/items"]["get"], "nothing in /docs to choose"
    assert client.get("/items?page_size=5").json() == 20, "the client's choice is ignored"
    app.dependency_overrides[get_page_size] = lambda: 5
    assert client.get("/items").json() == 5, "a test needs an override"
