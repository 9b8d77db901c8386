from avian import Router

books = Router("/books")
reviews = Router("/reviews")  # included into books below, so discovery must skip it


@books.get("/")
async def list_books() -> list[str]:
    return ["dune"]


@reviews.get("/")
async def list_reviews() -> list[str]:
    return ["great"]


books.include(reviews)
