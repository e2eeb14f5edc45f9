"""Reading the catalogue: a known SKU answers the product, an unknown one 404.

Notebook 09 and tests/test_coverage_report.py measure branch coverage with these two tests: the
first alone runs `read_product` (product_cache.py) without ever taking its `product is None`
branch; the second takes it."""

from ..auth_helpers import ACME


def test_a_known_sku_answers_the_product(client):
    response = client.get("/products/MUG-001", headers=ACME)
    assert response.status_code == 200, response.text
    assert response.json() == {"sku": "MUG-001", "name": "Enamel mug", "price": "12.50", "stock": 40}


def test_an_unknown_sku_is_404(client):
    response = client.get("/products/NOPE-999", headers=ACME)
    assert response.status_code == 404
    assert response.json() == {"detail": "No product 'NOPE-999'"}
