"""Stage 05, Async and sync: what blocks the event loop, measured, and each fix: a `def` route,
run_in_threadpool, an async driver (async SQLAlchemy), a process pool, and the thread pool's limit."""
