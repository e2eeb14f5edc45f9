"""The demo tenants' catalogues, written to their databases at start-up.

Each tenant has its own products table, so acme and globex sell different
things. A tenant's catalogue is written only while its table is empty: a
restart, or a second process starting beside the first, changes nothing.
"""

from decimal import Decimal

from sqlalchemy import select

from .database import hold_startup_lock
from .models import Product
from .product_schemas import ProductOut
from .tenancy import TenantRegistry

DEMO_PRODUCTS: dict[str, list[ProductOut]] = {
    "acme": [
        ProductOut(sku="MUG-001", name="Enamel mug", price=Decimal("12.50"), stock=40),
        ProductOut(sku="TEE-002", name="Logo T-shirt", price=Decimal("24.00"), stock=15),
        ProductOut(sku="CAP-003", name="Baseball cap", price=Decimal("18.00"), stock=0),
    ],
    "globex": [
        ProductOut(sku="LAMP-100", name="Desk lamp", price=Decimal("39.90"), stock=12),
        ProductOut(sku="PEN-200", name="Fountain pen", price=Decimal("8.75"), stock=250),
    ],
}


def seed_demo_products(tenants: TenantRegistry) -> None:
    for tenant in tenants:
        with tenant.sessions() as session:
            # Several processes start at once: look and write while no other can (held until the commit).
            hold_startup_lock(session.connection())
            if session.scalar(select(Product.sku).limit(1)) is not None:
                continue
            session.add_all(Product(**product.model_dump()) for product in DEMO_PRODUCTS.get(tenant.id, []))
            session.commit()
