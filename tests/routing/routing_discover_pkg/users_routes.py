from avian import Router

from .books_routes import books  # re-exported here: must not be included twice

__all__ = ["books", "users"]

users = Router("users")


@users.get("/{id:int}")
async def user(id: int) -> dict[str, int]:
    return {"user": id}
