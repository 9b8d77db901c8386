"""Database connections (Redis, MongoDB, SQL) opened with the app and closed with it."""
