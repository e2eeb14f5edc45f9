"""Exercise 00/product_lookup: GET /products/{sku} answers one product, or 404."""


def test_known_sku_answers_the_product(client):
    response = client.get("/products/TEE-002")
    assert response.status_code == 200, f"GET /products/TEE-002 should answer 200, got {response.status_code}"
    assert response.json() == {"sku": "TEE-002", "name": "Logo T-shirt", "price_cents": 2400, "stock": 15}


def test_unknown_sku_answers_404_naming_it(client):
    response = client.get("/products/NOPE-999")
    assert response.status_code == 404, f"an unknown SKU should answer 404, got {response.status_code}"
    assert response.json() == {"detail": "No product with SKU 'NOPE-999'"}
