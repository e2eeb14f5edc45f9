"""Stage 02, Advanced dependencies: tenants chosen by a header, a rate limiter backed by
Redis, a credentials -> principal -> permission chain, and a repository port with two adapters."""
