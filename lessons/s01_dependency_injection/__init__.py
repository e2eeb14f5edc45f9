"""Stage 01, Dependency injection: settings, a database session per request, a logger and a
service, each handed to the routes by FastAPI's `Depends`."""
