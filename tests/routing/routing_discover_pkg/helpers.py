from avian import Router

helpers = Router("/helpers-router")


@helpers.get("/x")
async def x() -> str:
    return "x"
