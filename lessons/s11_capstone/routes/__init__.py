"""The app's routes: one module per resource, each an APIRouter that main.py includes."""
