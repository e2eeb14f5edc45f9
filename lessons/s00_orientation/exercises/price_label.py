"""Exercise 00/price_label: turn a price in cents into the label a shop shows.

    price_label(1250)    -> "€12.50"
    price_label(5)       -> "€0.05"
    price_label(123456)  -> "€1,234.56"

Prices are whole cents (see catalogue.py), so the answer needs integer
arithmetic only: no floats, no rounding surprises. Negative prices are a bug in
the caller: raise ValueError.
"""


def price_label(cents: int) -> str:
    raise NotImplementedError("exercise 00/price_label: write this part")
