"""``app.listen(development=True)`` for an App imported from another module."""

from avian_app import app

if __name__ == "__main__":
    app.listen(port=0, development=True, access_log=False)
