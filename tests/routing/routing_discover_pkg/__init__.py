"""A small package for the ``app.autodiscover()`` tests: routers spread over modules."""
