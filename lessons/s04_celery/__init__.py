"""Stage 04, Celery: a welcome email sent by a real worker process through a real SMTP
server, with retries, exponential backoff and an idempotency marker, and a task status route."""
