"""Stage 09, Testing: the Storefront API tested at every level of the pyramid, with the fixtures,
fakes and tools that make each level fast and honest."""
