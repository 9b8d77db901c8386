from avian import Router

admin = Router("/admin")


@admin.get("/stats")
async def stats() -> dict[str, bool]:
    return {"ok": True}
