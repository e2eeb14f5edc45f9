"""Stage 00, Orientation: the smallest Storefront API, and how to work with the workbook."""
