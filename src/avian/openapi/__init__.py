"""OpenAPI 3.1 documents generated from the app's routes, and the docs UIs that show them."""
