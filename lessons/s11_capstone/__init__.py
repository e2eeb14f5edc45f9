"""Stage 11, Capstone: the whole Storefront API as one production service, run as several
processes on PostgreSQL, Redis and a Celery worker, proven end to end and under load."""
