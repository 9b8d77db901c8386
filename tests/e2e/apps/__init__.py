"""Apps served by a real uvicorn process in the end-to-end tests."""
