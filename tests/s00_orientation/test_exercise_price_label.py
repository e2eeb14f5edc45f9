"""Exercise 00/price_label: format a price in cents as a label like €1,234.56."""

import pytest

from lessons.s00_orientation.exercises.price_label import price_label

CASES = [(1250, "€12.50"), (5, "€0.05"), (0, "€0.00"), (123456, "€1,234.56"), (100000000, "€1,000,000.00")]


@pytest.mark.parametrize(("cents", "label"), CASES, ids=[f"{cents} cents" for cents, _ in CASES])
def test_price_label(cents, label):
    assert price_label(cents) == label, f"price_label({cents}) should be {label!r}"


def test_negative_price_is_refused():
    with pytest.raises(ValueError, match="negative"):
        price_label(-1)
