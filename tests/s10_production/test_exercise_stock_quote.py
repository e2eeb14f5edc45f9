"""Exercise 10/stock_quote: asking for more than the stock is a 409 problem with the numbers as members."""

from ..auth_helpers import ACME

# TEE-002 starts with 15 in stock in every demo tenant.
TOO_MANY = "/products/TEE-002/quote?quantity=16"


def test_more_than_the_stock_is_a_409_problem_of_its_own_type(client):
    response = client.get(TOO_MANY, headers=ACME)
    assert response.status_code == 409, f"more than the stock: 409, got {response.status_code} {response.text[:300]}"
    assert response.headers["content-type"] == "application/problem+json", "answer with problem_response"
    body = response.json()
    assert body["type"] == "https://storefront.example/problems/not-enough-stock", f"the slug: got {body['type']}"
    assert (body["title"], body["status"]) == ("Not enough stock", 409), f"the title and the status: got {body}"


def test_the_detail_is_a_sentence_with_the_numbers(client):
    body = client.get(TOO_MANY, headers=ACME).json()
    assert body.get("detail") == "Only 15 of TEE-002 are in stock; 16 were asked for", f"the error's message: {body}"


def test_a_client_reads_the_numbers_from_extension_members(client):
    body = client.get(TOO_MANY, headers=ACME).json()
    members = {name: body.get(name) for name in ("sku", "requested", "available")}
    assert members == {"sku": "TEE-002", "requested": 16, "available": 15}, f"numbers, not text: got {members}"
