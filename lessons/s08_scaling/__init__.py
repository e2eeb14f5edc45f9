"""Stage 08, Scaling: products in the tenant's database, a connection pool sized, watched and
failing fast, statement timeouts, tiered caching across processes, and one shared HTTP client."""
