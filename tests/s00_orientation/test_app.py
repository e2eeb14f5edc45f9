"""Stage 00 works as the orientation notebook says it does."""


def test_products_lists_the_whole_catalogue(client):
    skus = [product["sku"] for product in client.get("/products").json()]
    assert skus == ["MUG-001", "TEE-002", "CAP-003"]


def test_docs_and_schema_are_served(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/health", "/products", "/products/{sku}"} <= paths.keys()
