"""Tooling for the Storefront workbook: the stage index and the `python -m workbook` CLI."""
