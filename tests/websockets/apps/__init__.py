"""Small raw-ASGI apps for the websocket end-to-end tests (served by a real uvicorn)."""
