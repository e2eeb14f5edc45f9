"""The Storefront API, one package per stage: `s00_orientation`, `s01_...`, and so on.

Each stage is a complete, runnable copy of the application at that point of the
course. Read a stage on its own, or run `make diff LESSON=NN` to see what it
changed since the one before.
"""
