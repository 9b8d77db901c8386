"""The docs pages, the JSON/YAML endpoints and their configuration, over HTTP."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from avian import App, ConfigurationError
from avian.openapi import OpenAPIConfig, ScalarOptions
from avian.testing import TestClient
from avian.testing.errors import LifespanError

CDN = "https://cdn.jsdelivr.net/npm"


def make_app(**options: Any) -> App:
    app = App(title="Pets", openapi=OpenAPIConfig(**options) if options else True)

    @app.get("/pets")
    async def pets() -> list[str]:
        return ["rex"]

    return app


def settings_of(page: str) -> dict[str, Any]:
    found = re.search(r'id="avian-docs-settings">(.*?)</script>', page, re.S)
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def test_every_ui_page_loads_its_assets_and_the_document() -> None:
    expected = {
        "scalar": [f"{CDN}/@scalar/api-reference@1/dist/browser/standalone.js"],
        "swagger": [f"{CDN}/swagger-ui-dist@5/swagger-ui-bundle.js", "swagger-ui.css"],
        "redoc": [f"{CDN}/redoc@2/bundles/redoc.standalone.js"],
        "rapidoc": [f'type="module" src="{CDN}/rapidoc@9/dist/rapidoc-min.js"'],
    }
    with TestClient(make_app(local_assets=False)) as client:
        for ui, needles in expected.items():
            page = client.get(f"/docs/{ui}")
            assert page.status_code == 200
            assert page.headers["content-type"] == "text/html; charset=utf-8"
            for needle in needles:
                assert needle in page.text
            settings = settings_of(page.text)
            assert (settings["ui"], settings["specUrl"]) == (ui, "/openapi.json")
            assert '<script src="/docs/avian-docs.js"></script>' in page.text
        default = client.get("/docs")
        assert settings_of(default.text)["ui"] == "scalar"  # te.js's choice is the default
        assert "<title>Pets - Scalar</title>" in default.text
        script = client.get("/docs/avian-docs.js")
        assert script.headers["content-type"].startswith("text/javascript")
        assert "createApiReference" in script.text
        assert "SwaggerUIBundle" in script.text


def test_json_and_yaml_endpoints() -> None:
    import yaml

    with TestClient(make_app()) as client:
        as_json = client.get("/openapi.json")
        assert as_json.headers["content-type"] == "application/json"
        assert list(as_json.json()["paths"]) == ["/pets"]
        as_yaml = client.get("/openapi.yaml")
        assert as_yaml.headers["content-type"].startswith("application/yaml")
        assert yaml.safe_load(as_yaml.text) == as_json.json()


def test_swagger_files_are_served_locally_when_the_package_is_installed() -> None:
    pytest.importorskip("swagger_ui_bundle")  # a dev dependency: installed in CI
    with TestClient(make_app()) as client:
        page = client.get("/docs/swagger").text
        assert 'src="/docs/assets/swagger/swagger-ui-bundle.js"' in page
        assert 'href="/docs/assets/swagger/swagger-ui.css"' in page
        script = client.get("/docs/assets/swagger/swagger-ui-bundle.js")
        assert script.status_code == 200
        assert "SwaggerUIBundle" in script.text
        assert (
            client.get("/docs/assets/swagger/swagger-ui.css")
            .headers["content-type"]
            .startswith("text/css")
        )
        assert client.get("/docs/assets/swagger/nope.js").status_code == 404
        assert client.get("/docs/assets/swagger/../../openapi.json").status_code in (400, 404)
        # Scalar has no Python package: it still comes from the CDN.
        assert CDN in client.get("/docs").text
    with TestClient(make_app(local_assets=True)) as client:
        assert client.get("/docs/assets/swagger/swagger-ui.css").status_code == 200


def test_asset_urls_and_base_url_replace_the_cdn() -> None:
    app = make_app(
        asset_base_url="https://mirror.example/npm/",
        asset_urls={"redoc": "/static/redoc"},
        local_assets=False,
    )
    with TestClient(app) as client:
        assert "https://mirror.example/npm/swagger-ui-dist@5/swagger-ui-bundle.js" in (
            client.get("/docs/swagger").text
        )
        assert 'src="/static/redoc/bundles/redoc.standalone.js"' in client.get("/docs/redoc").text
        assert client.get("/docs/assets/swagger/swagger-ui.css").status_code == 404


def test_docs_can_be_switched_off_entirely_or_in_part() -> None:
    for app in (App(openapi=False), make_app(enabled=False)):
        with TestClient(app) as client:
            for path in ("/docs", "/docs/swagger", "/openapi.json", "/openapi.yaml"):
                assert client.get(path).status_code == 404
    with TestClient(make_app(docs_url=None, yaml_url=None)) as client:
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/openapi.yaml").status_code == 404
        assert client.get("/docs").status_code == 404
    with TestClient(make_app(uis=())) as client:
        assert client.get("/docs").status_code == 200
        assert client.get("/docs/redoc").status_code == 404


def test_paths_and_the_default_ui_are_configurable() -> None:
    app = make_app(
        openapi_url="/api/spec.json",
        yaml_url="/api/spec.yaml",
        docs_url="/reference",
        ui="redoc",
        page_title="Reference",
        favicon_url="/favicon.png",
    )
    with TestClient(app) as client:
        assert client.get("/api/spec.json").status_code == 200
        assert client.get("/api/spec.yaml").status_code == 200
        page = client.get("/reference").text
        assert settings_of(page) == {"ui": "redoc", "specUrl": "/api/spec.json", "options": {}}
        assert "<title>Reference</title>" in page
        assert '<link rel="icon" href="/favicon.png">' in page
        assert client.get("/reference/redoc").status_code == 200
        assert client.get("/reference/scalar").status_code == 200
        assert client.get("/docs").status_code == 404


def test_a_dict_config_with_te_js_spellings() -> None:
    app = App(
        openapi={
            "specPath": "/docs/openapi.json",
            "scalarConfig": {"layout": "classic", "showSidebar": False},
        }
    )
    with TestClient(app) as client:
        settings = settings_of(client.get("/docs").text)
        assert settings["specUrl"] == "/docs/openapi.json"
        assert settings["options"]["layout"] == "classic"
        assert settings["options"]["showSidebar"] is False
        assert client.get("/docs/openapi.json").status_code == 200


def test_scalar_options_reach_scalar() -> None:
    scalar = ScalarOptions(
        layout="classic",
        theme="moon",
        show_sidebar=False,
        hide_test_request_button=True,
        hide_models=True,
        hide_download_button=True,
        hide_search=True,
        dark_mode=True,
        hide_dark_mode_toggle=True,
        default_open_all_tags=True,
        search_hot_key="j",
        custom_css="body{color:red}",
        hidden_clients=["curl"],
        extra={"proxyUrl": "https://proxy.example"},
    )
    with TestClient(make_app(scalar=scalar)) as client:
        options = settings_of(client.get("/docs").text)["options"]
    assert options == {
        "layout": "classic",
        "theme": "moon",
        "showSidebar": False,
        "hideTestRequestButton": True,
        "hideModels": True,
        "hideDownloadButton": True,
        "hideSearch": True,
        "darkMode": True,
        "forceDarkModeState": "dark",
        "hideDarkModeToggle": True,
        "defaultOpenAllTags": True,
        "searchHotKey": "j",
        "customCss": "body{color:red}",
        "hiddenClients": ["curl"],
        "proxyUrl": "https://proxy.example",
    }


def test_swagger_redoc_and_rapidoc_options() -> None:
    app = make_app(
        swagger_ui_parameters={"docExpansion": "none"},
        swagger_init_oauth={"clientId": "docs"},
        redoc_options={"expandResponses": "200"},
        rapidoc_options={"theme": "dark", "render-style": "read"},
    )
    with TestClient(app) as client:
        swagger = settings_of(client.get("/docs/swagger").text)
        assert swagger["options"] == {"docExpansion": "none"}
        assert swagger["oauth"] == {"clientId": "docs"}
        assert settings_of(client.get("/docs/redoc").text)["options"] == {"expandResponses": "200"}
        rapidoc = settings_of(client.get("/docs/rapidoc").text)["options"]
        assert rapidoc == {"theme": "dark", "render-style": "read"}


def test_configured_values_are_escaped() -> None:
    hostile = "</script><script>alert(1)</script>"
    app = App(
        title=f'Pets "{hostile}"',
        openapi=OpenAPIConfig(
            scalar=ScalarOptions(custom_css=hostile),
            favicon_url='x" onload="alert(1)',
            asset_urls={"scalar": '/a"><script>alert(1)</script>'},
        ),
    )
    with TestClient(app) as client:
        page = client.get("/docs").text
    assert "<script>alert(1)</script>" not in page
    assert 'onload="alert' not in page
    assert settings_of(page)["options"]["customCss"] == hostile  # intact once parsed


def test_pages_carry_the_csp_nonce_and_a_csp_that_allows_their_assets() -> None:
    app = make_app(local_assets=False)
    app.shield(use_nonce=True)
    with TestClient(app) as client:
        page = client.get("/docs/swagger")
        nonces = set(re.findall(r'nonce="([^"]+)"', page.text))
        assert len(nonces) == 1
        csp = page.headers["content-security-policy"]
        assert "script-src 'self' https://cdn.jsdelivr.net" in csp
        assert "'unsafe-inline'" in csp.split("style-src", 1)[1].split(";")[0]
        assert "worker-src 'self' blob:" in csp
        # Other routes keep the app's own policy.
        other = client.get("/pets").headers["content-security-policy"]
        assert "cdn.jsdelivr.net" not in other
        assert "'nonce-" in other
        scalar = client.get("/docs").headers["content-security-policy"]
        assert "https://fonts.scalar.com" in scalar
    off = make_app()
    off.shield(csp=False)
    with TestClient(off) as client:
        assert "content-security-policy" not in client.get("/docs").headers


def test_under_a_root_path_the_urls_and_servers_follow() -> None:
    with TestClient(make_app(local_assets=False), root_path="/api") as client:
        page = client.get("/docs").text  # the client adds the root path
        assert settings_of(page)["specUrl"] == "/api/openapi.json"
        assert 'src="/api/docs/avian-docs.js"' in page
        assert client.get("/openapi.json").json()["servers"] == [{"url": "/api"}]


def test_routes_and_mounts_of_the_app_win_over_the_docs() -> None:
    app = make_app()

    @app.get("/docs")
    async def own_docs() -> str:
        return "my docs"

    async def spec_app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"mounted"})

    app.mount("/openapi.yaml", spec_app)
    with TestClient(app) as client:
        assert client.get("/docs").text == "my docs"
        assert client.get("/openapi.yaml").text == "mounted"
        assert client.get("/docs/redoc").status_code == 200
        assert "/docs" in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"docs_url": "docs"}, "docs_url"),
        ({"openapi_url": "/"}, "openapi_url"),
        ({"ui": "elements"}, "ui must be one of"),
        ({"uis": ["swagger", "nope"]}, "unknown UI"),
        ({"asset_urls": {"nope": "/x"}}, "asset_urls"),
        ({"scalar": {"layout": "wide"}}, "layout"),
        ({"scalar": {"theme": "neon"}}, "theme"),
        ({"scalar": {"searchHotKey": "ctrl"}}, "search_hot_key"),
        ({"scalar": {"sidebar": True}}, "unknown scalar option"),
        ({"rapidoc_options": {"Theme": "dark"}}, "rapidoc_options"),
        ({"security": [{"bearer": "read"}]}, "security"),
        ({"local_assets": "yes"}, "local_assets"),
    ],
)
def test_bad_options_fail_when_the_config_is_built(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        OpenAPIConfig(**options)


@pytest.mark.parametrize(
    ("app", "message"),
    [
        (App(openapi={"docs_path": "/x"}), "unknown openapi option 'docs_path'"),
        (App(openapi={"docsUrl": "/x"}), "did you mean 'docs_url'"),
        (App(openapi="yes"), "must be True, False"),
        (make_app(openapi_url=None), "need openapi_url"),
    ],
)
def test_bad_app_level_values_fail_at_startup(app: App, message: str) -> None:
    with pytest.raises(LifespanError, match=message), TestClient(app):
        pass
