"""Taking stock and giving it back: the database decides who gets the last one.

Each product's stock is taken with ONE conditional statement,

    UPDATE products SET stock = stock - :q WHERE sku = :sku AND stock >= :q

and the row count says whether it happened. The check and the write cannot be
separated by another request, on SQLite (one writer at a time) as on PostgreSQL
(the UPDATE locks the row, and a second UPDATE waiting on it checks `stock >= :q`
again once the first commits). A read of the stock followed by a write, however
quick, can be: two requests both read 1 left, both write 0, and two mugs are
sold. The CHECK constraint (stock >= 0, models.py) is the last line behind this.
"""

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, Update, select, update
from sqlalchemy.orm import Session

from .models import Product
from .order_schemas import OrderLine
from .product_repository import ProductNotFound


class OutOfStock(Exception):
    def __init__(self, sku: str, asked: int, left: int) -> None:
        super().__init__(f"Not enough stock of {sku!r}: {asked} asked, {left} left")
        self.sku = sku


def take(session: Session, lines: Sequence[OrderLine]) -> dict[str, Decimal]:
    """Take every line's quantity, or raise before the caller commits anything; answers each SKU's price.

    In SKU order: two orders for the same products lock their rows in the same
    order on PostgreSQL, so neither can hold one row while waiting for the other's.
    """
    for line in sorted(lines, key=lambda line: line.sku):
        taken = rows_changed(
            session,
            update(Product)
            .where(Product.sku == line.sku, Product.stock >= line.quantity)
            .values(stock=Product.stock - line.quantity),
        )
        if taken != 1:
            left = session.scalar(select(Product.stock).where(Product.sku == line.sku))
            if left is None:
                raise ProductNotFound(line.sku)
            raise OutOfStock(line.sku, line.quantity, left)
    # The rows are ours until the commit (locked on PostgreSQL): these prices are the ones sold at.
    rows = session.execute(select(Product.sku, Product.price).where(Product.sku.in_([line.sku for line in lines])))
    return {sku: price for sku, price in rows}


def give_back(session: Session, lines: Iterable[tuple[str, int]]) -> None:
    """Put (sku, quantity) back on the shelf: an increment, right whatever else happened meanwhile."""
    for sku, quantity in sorted(lines):
        rows_changed(session, update(Product).where(Product.sku == sku).values(stock=Product.stock + quantity))


def rows_changed(session: Session, statement: Update) -> int:
    """Run an UPDATE and answer how many rows it changed: the database's yes or no.

    synchronize_session=False: the statement is the whole point, so the session does not
    try to apply it to objects it holds. Session.execute is typed to answer a plain
    Result; an UPDATE's is a CursorResult, the kind that has a row count.
    """
    result = session.execute(statement, execution_options={"synchronize_session": False})
    return cast(CursorResult[Any], result).rowcount
