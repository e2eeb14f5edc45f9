"""Stage 10, Production practices: orders that never oversell, one error format, correlated JSON
logs, health checks and a graceful shutdown, on the tested Storefront API."""
