"""Stage 03, Background tasks: a profile-image upload answered at once, thumbnails made after the
response in the thread pool, analytics counted in Redis, and what BackgroundTasks can lose."""
