"""Templates (TPL-01..08): the Harpia syntax compiled to Jinja2, views, layouts, components,
modules, plugins, request globals, errors with file and line, path safety, caching, the
plain Jinja2 engine and custom engines.

Requests go over HTTP through the test client; rendering outside requests calls the engine
(``generate()``).  Syntax tests write small templates into ``tmp_path``; the app-shaped tests
use the tree in ``tests/templates/fixtures``.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from jinja2 import BaseLoader, DictLoader, Environment
from markupsafe import Markup

from avian import App, Context
from avian.errors import ConfigurationError
from avian.templates import (
    Jinja2Engine,
    TemplateEngine,
    TemplateNotFoundError,
    TemplateRenderError,
    TemplateSyntaxError,
)
from avian.testing import TestClient

FIXTURES = Path(__file__).parent / "fixtures"

XSS = [
    "<script>alert('xss')</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)",
    "javascript:alert(1)</a><a href=x>",
    "&lt;already&gt; & <b>",
]


def fixture_engine(**options: Any) -> TemplateEngine:
    return TemplateEngine(
        path={
            "views": FIXTURES / "views",
            "layouts": FIXTURES / "layouts",
            "components": FIXTURES / "components",
        },
        **options,
    )


def write(root: Path, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def tmp_engine(
    root: Path, files: Mapping[str, str] | None = None, **options: Any
) -> TemplateEngine:
    """An engine over ``root/views``, ``root/layouts``, ``root/components``; ``files`` are
    written first (``"t"`` is short for the view ``views/t/page.html``)."""
    if files:
        write(root, {("views/t/page.html" if k == "t" else k): v for k, v in files.items()})
    paths = {
        "views": root / "views",
        "layouts": root / "layouts",
        "components": root / "components",
    }
    return TemplateEngine(path=paths, **options)


def render(engine: Any, view: str, data: Mapping[str, Any] | None = None, **kw: Any) -> str:
    result: str = asyncio.run(engine.render(view, data, **kw))
    return result


def render_source(
    tmp_path: Path, source: str, data: Mapping[str, Any] | None = None, **options: Any
) -> str:
    return render(tmp_engine(tmp_path, {"t": source}, **options), "t", data)


@pytest.fixture
def app() -> App:
    application = App(log_exceptions=False)
    fixture_engine().configure(application)
    return application


# -- TPL-05 syntax: output and escaping --------------------------------------------------------


def test_output_is_escaped(tmp_path: Path) -> None:
    out = render_source(tmp_path, "<p>{{ name }}</p>", {"name": "<b>Ada & Bob</b>"})
    assert out == "<p>&lt;b&gt;Ada &amp; Bob&lt;/b&gt;</p>"


@pytest.mark.parametrize("payload", XSS)
def test_xss_payloads_in_data_are_escaped_everywhere(tmp_path: Path, payload: str) -> None:
    write(tmp_path, {"components/c.html": "<i>{{ v }}</i>", "views/t/inc.html": "<u>{{ v }}</u>"})
    source = (
        '<p title="{{ v }}">{{ v }}</p>{{ "x" + v }}{{ [v][0] }}{{ {k: v}.k }}\n'
        "@set copy = v @endset{{ copy }}\n"
        '@component("c", { v: v })\n'
        '@import("inc", { v: v })\n'
    )
    out = render_source(tmp_path, source, {"v": payload})
    for tag in ("<script", "<img", "<a ", "<b>"):
        assert tag not in out
    assert "'" not in out.replace("&#39;", "")
    assert out.count("&lt;") == 8 * payload.count("<")


@pytest.mark.parametrize(
    "payload",
    [
        "{{ 7 * 7 }}",
        "@if true\nyes\n@endif",
        '@layout("x") @component("y")',
        "{% if true %}jinja{% endif %}",
        "{# hidden #}",
        "{{ raw(x) }}",
        "## not a comment",
        "${7*7} <%= 7*7 %>",
    ],
)
def test_template_syntax_in_data_is_never_interpreted(tmp_path: Path, payload: str) -> None:
    write(tmp_path, {"components/c.html": "[{{ v }}]"})
    source = '{{ v }}|@component("c", { v: v })|{{ raw(v) }}'
    out = render_source(tmp_path, source, {"v": payload, "x": "<b>"})
    escaped = str(Markup.escape(payload))
    assert out == f"{escaped}|[{escaped}]|{payload}"
    assert "49" not in out


def test_raw_is_the_only_way_to_output_html(tmp_path: Path) -> None:
    source = '{{ raw(html) }}|{{ html }}|{{ raw("<i>lit</i>") }}|@set h = raw(html) @endset{{ h }}'
    out = render_source(tmp_path, source, {"html": "<b>bold</b>"})
    assert out == "<b>bold</b>|&lt;b&gt;bold&lt;/b&gt;|<i>lit</i>|<b>bold</b>"
    assert render_source(tmp_path, "[{{ raw(nothing) }}][{{ raw(null) }}]") == "[][]"


@pytest.mark.parametrize(
    "source",
    [
        "{{ name | safe }}",
        "{{ name|e }}",
        "{{ name.__class__ }}",
        "{{ __import__ }}",
        "{{ user.__init__.__globals__ }}",
        "{{ self }}",
        "{{ cycler.__init__ }}",
    ],
)
def test_autoescape_bypass_and_jinja_escape_hatches_are_rejected(
    tmp_path: Path, source: str
) -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        render_source(tmp_path, f"line one\n{source}", {"name": "<b>"})
    assert info.value.lineno == 2
    assert str(info.value).startswith(f"{tmp_path / 'views/t/page.html'}:2: ")


def test_jinja_syntax_in_template_text_is_plain_text(tmp_path: Path) -> None:
    source = "{% if true %}x{% endif %} {# c #} {%raw%} a{ b{{ '{' }}\n{"
    out = render_source(tmp_path, source)
    assert out == "{% if true %}x{% endif %} {# c #} {%raw%} a{ b{\n{"


def test_undefined_values_print_nothing_and_literals_print_like_javascript(tmp_path: Path) -> None:
    source = "[{{ missing }}][{{ missing.deep.er }}][{{ user?.name }}][{{ nothing }}][{{ null }}][{{ true }}][{{ false }}][{{ 0 }}]"
    assert render_source(tmp_path, source, {"nothing": None}) == "[][][][][][true][false][0]"


# -- expressions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("user.name", "Ada"),
        ('user["name"]', "Ada"),
        ("obj.name", "object"),
        ("items[1]", "2"),
        ("items.length", "3"),
        ('"abc".length', "3"),
        ("{ length: 9 }.length", "9"),
        ('{ a: 1, "b-c": 2, 3: "three", [key]: "computed" }["b-c"]', "2"),
        ('{ a: 1, "b-c": 2, 3: "three", [key]: "computed" }["3"]', "three"),
        ('{ a: 1, [key]: "computed" }.dyn', "computed"),
        ("{ user }.user.name", "Ada"),
        ("[1, 2, 3,][2]", "3"),
        ("1 + 2 * 3 - 4 / 2", "5.0"),
        ("10 % 4", "2"),
        ('"n=" + 1 + 2', "n=12"),
        ('1 + 2 + "=n"', "3=n"),
        ('"x" + null + true', "xtrue"),
        ("-items[0] + +2", "1"),
        ("true && false", "false"),
        ("true && 'yes'", "yes"),
        ("0 || 'fallback'", "fallback"),
        ("!flag", "false"),
        ("!!flag", "true"),
        ("!flag && flag", "false"),
        ("1 === 1", "true"),
        ('1 !== "1"', "true"),
        ("1 == 1 && 2 != 3", "true"),
        ("2 >= 2 && 1 < 2 && 3 > 2 && 2 <= 1", "false"),
        ("missing ?? 'default'", "default"),
        ("nothing ?? 'default'", "default"),
        ("0 ?? 'default'", "0"),
        ("flag ? 'on' : 'off'", "on"),
        ("!flag ? 'on' : items.length > 2 ? 'many' : 'few'", "many"),
        ("2 in items", "true"),
        ("5 not in items", "true"),
        ("'name' in user", "true"),
        ("flag and not false or false", "true"),
        ("True and None == null", "true"),
        ("undefined ?? .5", "0.5"),
        ("1e3", "1000.0"),
        ("'it\\'s \\\"q\\\" \\u00e9 \\x41\\n'.length", "13"),
        ("sum(1, 2)", "3"),
        ("uppercase(user.name)", "ADA"),
        ("sum(sum(1, 2), items.length)", "6"),
        ("user.name.upper()", "ADA"),
        ("(1 + 2) * 3", "9"),
    ],
)
def test_javascript_style_expressions(tmp_path: Path, expression: str, expected: str) -> None:
    class Obj:
        name = "object"

    engine = tmp_engine(tmp_path, {"t": "{{ " + expression + " }}"})
    engine.register_plugin("sum", lambda a, b: a + b)
    engine.register_plugin("uppercase", lambda s: s.upper())
    data = {
        "user": {"name": "Ada"},
        "obj": Obj(),
        "items": [1, 2, 3],
        "flag": True,
        "nothing": None,
        "key": "dyn",
    }
    assert render(engine, "t", data) == expected


def test_expressions_may_span_lines_and_contain_braces(tmp_path: Path) -> None:
    source = '{{ label({\n  a: { b: "}}" },\n  c: [1, 2]\n}) }}|{{ "%}" }}|{{ "{{" }}'
    engine = tmp_engine(tmp_path, {"t": source})
    engine.register_plugin("label", lambda o: f"{o['a']['b']}{o['c']}")
    assert render(engine, "t") == "}}[1, 2]|%}|{{"


# -- @set, @if, @for, comments, escapes --------------------------------------------------------


def test_set_assigns_values_and_plugin_results(tmp_path: Path) -> None:
    source = (
        "@set user = {name: 'John', scores: [85, 90, 78]} @endset\n"
        "@set avg = average(user.scores) @endset\n"
        "@set greeting = concat('Hello', name, '!') @endset\n"
        "<div>{{ user.name }}: {{ avg }} / {{ greeting }}</div>\n"
    )
    engine = tmp_engine(tmp_path, {"t": source})
    engine.register_plugin("average", lambda xs: f"{sum(xs) / len(xs):.2f}")
    engine.register_plugin("concat", lambda *parts: " ".join(parts))
    assert render(engine, "t", {"name": "Lu"}) == "<div>John: 84.33 / Hello Lu !</div>\n"


def test_set_may_span_lines_and_sit_inline(tmp_path: Path) -> None:
    source = "a @set x = {\n  n: 1\n} @endset{{ x.n }} b\n"
    assert render_source(tmp_path, source) == "a 1 b\n"


def test_if_elseif_else(tmp_path: Path) -> None:
    source = (
        "@if role === 'admin'\n"
        "  <p>admin</p>\n"
        "@elseif role === 'mod' || role === 'helper'\n"
        "  <p>mod</p>\n"
        "@else if role\n"
        "  <p>{{ role }}</p>\n"
        "@else\n"
        "  <p>nobody</p>\n"
        "@endif\n"
    )
    engine = tmp_engine(tmp_path, {"t": source})
    assert render(engine, "t", {"role": "admin"}) == "  <p>admin</p>\n"
    assert render(engine, "t", {"role": "helper"}) == "  <p>mod</p>\n"
    assert render(engine, "t", {"role": "user"}) == "  <p>user</p>\n"
    assert render(engine, "t", {}) == "  <p>nobody</p>\n"


def test_for_over_lists_objects_and_pairs_with_else_and_loop(tmp_path: Path) -> None:
    source = (
        "<ul>\n"
        "@for item in items\n"
        "  <li>{{ loop.index }}. {{ item }}</li>\n"
        "@else\n"
        "  <li>none</li>\n"
        "@endfor\n"
        "</ul>\n"
        "@for [key, value] in obj\n"
        "{{ key }}={{ value }};\n"
        "@endfor\n"
        "@for k, v in pairs\n"
        "{{ k }}:{{ v }};\n"
        "@endfor\n"
    )
    engine = tmp_engine(tmp_path, {"t": source})
    out = render(engine, "t", {"items": ["a", "b"], "obj": {"x": 1, "y": 2}, "pairs": [("p", 1)]})
    assert out == "<ul>\n  <li>1. a</li>\n  <li>2. b</li>\n</ul>\nx=1;\ny=2;\np:1;\n"
    empty = render(engine, "t", {"items": [], "obj": {}, "pairs": []})
    assert empty == "<ul>\n  <li>none</li>\n</ul>\n"
    assert render(engine, "t", {"obj": None}) == "<ul>\n  <li>none</li>\n</ul>\n"


def test_nesting_loops_conditions_and_plugins(tmp_path: Path) -> None:
    source = (
        "@if show\n"
        "  @for row in rows\n"
        "    @for n in row\n"
        "      @if isEven(n)\n"
        '<b class="even">{{ n }}</b>\n'
        "      @else\n"
        "<i>{{ n }}</i>\n"
        "      @endif\n"
        "    @endfor\n"
        "  @endfor\n"
        "@else\n"
        "hidden\n"
        "@endif\n"
    )
    engine = tmp_engine(tmp_path, {"t": source})
    engine.register_plugin("isEven", lambda n: n % 2 == 0)
    out = render(engine, "t", {"show": True, "rows": [[1, 2], [3]]})
    assert out == '<i>1</i>\n<b class="even">2</b>\n<i>3</i>\n'
    assert render(engine, "t", {"show": False}) == "hidden\n"


def test_plugins_in_conditions_and_loops(tmp_path: Path) -> None:
    source = (
        "@if both(equals(uppercase(name), 'JOHN'), gt(age, 25))\n"
        "<p>Hello John</p>\n"
        "@endif\n"
        "@for item in reverse(filter(items, 'active'))\n"
        "<p>{{ uppercase(item.name) }}</p>\n"
        "@endfor\n"
    )
    engine = tmp_engine(tmp_path, {"t": source})
    engine.register_plugin("equals", lambda a, b: a == b)
    engine.register_plugin("gt", lambda a, b: a > b)
    engine.register_plugin("both", lambda *xs: all(xs))
    engine.register_plugin("uppercase", str.upper)
    engine.register_plugin("reverse", lambda xs: list(reversed(xs)))
    engine.register_plugin("filter", lambda xs, s: [x for x in xs if x["status"] == s])
    items = [
        {"name": "one", "status": "active"},
        {"name": "two", "status": "inactive"},
        {"name": "three", "status": "active"},
    ]
    out = render(engine, "t", {"name": "john", "age": 30, "items": items})
    assert out == "<p>Hello John</p>\n<p>THREE</p>\n<p>ONE</p>\n"
    assert render(engine, "t", {"name": "john", "age": 20, "items": []}) == ""


def test_comments_vanish(tmp_path: Path) -> None:
    source = (
        "## a whole-line comment\n"
        "<p>kept</p>\n"
        "    ## an indented comment\n"
        "<p>text</p>   ## a trailing comment\n"
        '<a href="##">anchor</a> <b>##tag</b>\n'
    )
    out = render_source(tmp_path, source)
    assert out == '<p>kept</p>\n<p>text</p>\n<a href="##">anchor</a> <b>##tag</b>\n'


def test_escapes_and_at_signs_that_are_not_directives(tmp_path: Path) -> None:
    source = (
        "@@if not a directive\n"
        "@{{ name }} and @## and @@@\n"
        "mail ada@if.example or bob@for.org\n"
        "<style>@import url(a.css); @import 'b.css'; @media print { a { b: c } }</style>\n"
        "@iffy @format @endiff\n"
    )
    out = render_source(tmp_path, source, {"name": "x"})
    assert out == (
        "@if not a directive\n"
        "{{ name }} and ## and @@@\n"
        "mail ada@if.example or bob@for.org\n"
        "<style>@import url(a.css); @import 'b.css'; @media print { a { b: c } }</style>\n"
        "@iffy @format @endiff\n"
    )


def test_directive_lines_leave_no_blank_lines(tmp_path: Path) -> None:
    source = "<ul>\n  @for i in items\n    <li>{{ i }}</li>\n  @endfor\n</ul>\n"
    assert render_source(tmp_path, source, {"items": [1, 2]}) == (
        "<ul>\n    <li>1</li>\n    <li>2</li>\n</ul>\n"
    )


def test_windows_line_endings(tmp_path: Path) -> None:
    source = "@if yes\r\n<p>{{ v }}</p>\r\n@endif\r\n## note\r\nend\r\n"
    (tmp_path / "views/t").mkdir(parents=True)
    (tmp_path / "views/t/page.html").write_bytes(source.encode())
    assert render(tmp_engine(tmp_path), "t", {"yes": True, "v": 1}) == "<p>1</p>\nend\n"


# -- layouts, blocks, imports, components ------------------------------------------------------


def test_layout_with_blocks_static_params_imports_and_components(app: App) -> None:
    engine = app.templates
    engine.register_plugin("uppercase", str.upper)

    data = {"user": {"name": "Ada"}, "latest": "<new>", "year": 2025, "secret": "caller-only"}
    out = render(engine, "home", data)
    assert "<title>Homepage</title>" in out
    assert "<h1>Welcome, Ada!</h1>" in out
    assert "<p>THIS PAGE USES THE DEFAULT LAYOUT.</p>" in out
    assert '<p class="greeting">Hello, Ada</p>' in out  # import: props + caller variables
    assert "<nav>shared footer for Ada</nav>" in out  # import with "../"
    assert "<h2>Latest</h2>" in out  # component props
    assert "<p>&lt;new&gt;</p>" in out
    assert "<small></small>" in out  # the caller's variables do not leak into components
    assert "caller-only" not in out
    assert "<footer>© 2025</footer>" in out
    assert "The home page" not in out  # the ## comment
    assert out.startswith("<!DOCTYPE html>\n")


def test_layout_params_override_data_and_data_reaches_the_layout(tmp_path: Path) -> None:
    engine = tmp_engine(
        tmp_path,
        {
            "layouts/base.html": "<title>{{ title }}</title><h2>{{ sub }}</h2>@yield('content')",
            "t": "@layout('base', { title: 'Static' })\n@block('content')Hello@endblock\n",
        },
    )
    out = render(engine, "t", {"title": "from data", "sub": "subtitle"})
    assert out == "<title>Static</title><h2>subtitle</h2>Hello"


def test_layout_without_blocks_puts_the_view_in_the_body_block(tmp_path: Path) -> None:
    engine = tmp_engine(
        tmp_path,
        {
            "layouts/base.html": "<body>\n@yield('body')\n</body>\n",
            "t": "## comment\n@set who = 'you' @endset\n@layout('base')\n<p>Hi {{ who }}</p>\n",
        },
    )
    assert render(engine, "t") == "<body>\n<p>Hi you</p>\n</body>\n"


def test_nested_layouts_repeated_yields_and_default_blocks(tmp_path: Path) -> None:
    engine = tmp_engine(
        tmp_path,
        {
            "layouts/base.html": (
                "<title>@yield('title')</title>\n"
                "<h1>@yield('title')</h1>\n"
                "@block('aside')<aside>default</aside>@endblock\n"
                "@yield('content')\n"
            ),
            "layouts/two.html": (
                "@layout('base')\n@block('content')<main>@yield('main')</main>@endblock\n"
            ),
            "t": "@layout('two')\n@block('title')T@endblock\n@block('main')M{{ x }}@endblock\n",
        },
    )
    assert render(engine, "t", {"x": 1}) == (
        "<title>T</title>\n<h1>T</h1>\n<aside>default</aside>\n<main>M1</main>"
    )


def test_dynamic_layout_params_and_three_levels(app: App) -> None:
    out = render(app.templates, "section", {"heading": "News", "text": "<today>"})
    assert "<title>Section: News</title>" in out
    assert "<h1>News</h1>" in out
    assert "<p>&lt;today&gt;</p>" in out


def test_blocks_can_see_loop_variables_of_a_layout(tmp_path: Path) -> None:
    engine = tmp_engine(
        tmp_path,
        {
            "layouts/list.html": "@for item in items\n@yield('row')\n@endfor\n",
            "t": "@layout('list')\n@block('row')<li>{{ item }}</li>\n@endblock\n",
        },
    )
    assert render(engine, "t", {"items": [1, 2]}) == "<li>1</li>\n<li>2</li>\n"


def test_block_without_layout_renders_in_place(tmp_path: Path) -> None:
    assert render_source(tmp_path, "a@block('x')[{{ v }}]@endblock b", {"v": 1}) == "a[1] b"


def test_render_a_single_block_for_htmx(app: App) -> None:
    out = render(app.templates, "home", {"year": 2030}, block="footer")
    assert out == "© 2030"
    with pytest.raises(TemplateNotFoundError, match="no block 'nope'"):
        render(app.templates, "home", {}, block="nope")


def test_imports_see_loop_variables_and_components_do_not(tmp_path: Path) -> None:
    engine = tmp_engine(
        tmp_path,
        {
            "views/t/row.html": "<i>{{ item }}{{ extra }}</i>",
            "components/row.html": "<b>{{ item }}{{ extra }}</b>",
            "t": (
                "@for item in items\n"
                "@import('row', { extra: '!' })\n"
                "@component('row', { extra: '?' })\n"
                "@endfor\n"
            ),
        },
    )
    assert render(engine, "t", {"items": [1]}) == "<i>1!</i><b>?</b>"


def test_component_without_props_and_with_extension(tmp_path: Path) -> None:
    engine = tmp_engine(
        tmp_path,
        {"components/ui/hr.html": "<hr>", "t": "@component('ui/hr')@component('ui/hr.html')"},
    )
    assert render(engine, "t") == "<hr><hr>"


# -- TPL-06 plugins ---------------------------------------------------------------------------


def test_plugin_results_are_escaped_unless_markup(tmp_path: Path) -> None:
    engine = tmp_engine(tmp_path, {"t": "{{ bold(name) }}|{{ safe_bold(name) }}"})
    engine.register_plugin("bold", lambda s: f"<b>{s}</b>")
    engine.register_plugin("safe_bold", lambda s: Markup("<b>{}</b>").format(s))
    assert render(engine, "t", {"name": "<x>"}) == ("&lt;b&gt;&lt;x&gt;&lt;/b&gt;|<b>&lt;x&gt;</b>")


def test_plugins_registered_after_first_render_are_visible(tmp_path: Path) -> None:
    engine = tmp_engine(tmp_path, {"t": "{{ hello ?? 'none' }}"})
    assert render(engine, "t") == "none"
    engine.register_plugin("hello", lambda: "hi")
    engine.register_plugin("greet", lambda: "hi")
    write(tmp_path, {"views/u/page.html": "{{ greet() }}"})
    assert render(engine, "u") == "hi"


@pytest.mark.parametrize(
    ("name", "fn", "message"),
    [
        ("raw", str, "built in"),
        ("generate_nonce", str, "built in"),
        ("csrf_field", str, "built in"),
        ("not a name", str, "not a valid"),
        ("__secret", str, "not a valid"),
        ("in", str, "not a valid"),
        ("and", str, "not a valid"),
        ("value", 42, "callable"),
    ],
)
def test_register_plugin_rejects_bad_plugins(name: str, fn: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        fixture_engine().register_plugin(name, fn)


def test_register_plugin_rejects_async_functions() -> None:
    async def fetch() -> str:
        return "x"

    with pytest.raises(ConfigurationError, match="async"):
        fixture_engine().register_plugin("fetch", fetch)


# -- TPL-01/03/07 over HTTP: ctx.render, modules, request globals -----------------------------


def test_ctx_render_returns_html_with_status_and_headers(app: App) -> None:
    @app.post("/plain")
    async def plain(ctx: Context) -> Any:
        return await ctx.render(
            "plain", {"title": "<Made>"}, status=201, headers={"x-view": "plain"}
        )

    with TestClient(app) as client:
        response = client.post("/plain").execute()
    assert response.status_code == 201
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-view"] == "plain"
    assert response.text == "<h1>&lt;Made&gt;</h1>\n"


def test_query_values_rendered_over_http_are_escaped(app: App) -> None:
    @app.get("/hello")
    async def hello(ctx: Context) -> Any:
        return await ctx.render("plain", {"title": ctx.request.query.get("name")})

    with TestClient(app) as client:
        for payload in [*XSS, "{{ 7*7 }}", "@if true"]:
            response = client.get("/hello", params={"name": payload})
            assert response.text == f"<h1>{Markup.escape(payload)}</h1>\n"


def test_request_globals_through_ctx_render(app: App) -> None:
    async def simulate_middlewares(ctx: Context) -> None:  # what shield/csrf/sessions set
        ctx.state.csp_nonce = "n0nce-123"
        ctx.state.csrf_token = 'tok"><script>'
        ctx.state.flashes = [("success", "Saved <ok>"), ("error", "Oops")]

    app.before_all(simulate_middlewares)

    @app.get("/secure")
    async def secure(ctx: Context) -> Any:
        return await ctx.render("secure")

    with TestClient(app) as client:
        text = client.get("/secure").text
    assert '<script nonce="n0nce-123">' in text
    assert '<meta name="csrf" content="tok&#34;&gt;&lt;script&gt;">' in text
    assert (
        '<form method="post"><input type="hidden" name="_csrf" value="tok&#34;&gt;&lt;script&gt;"></form>'
        in text
    )
    assert '<p class="flash">Saved &lt;ok&gt;</p>\n<p class="flash">Oops</p>' in text
    assert '<p class="success">Saved &lt;ok&gt;</p>\n<p class="error">Oops</p>' in text
    assert "<p>GET /secure</p>" in text
    assert 'data-nonce="n0nce-123"' in text  # components get the request globals too
    assert "<script" not in text.replace('<script nonce="n0nce-123">', "")


def test_request_globals_are_empty_without_the_middlewares(app: App) -> None:
    @app.get("/secure")
    async def secure(ctx: Context) -> Any:
        return await ctx.render("secure")

    with TestClient(app) as client:
        text = client.get("/secure").text
    assert '<script nonce="">' in text
    assert '<meta name="csrf" content="">' in text
    assert '<form method="post"></form>' in text
    assert "flash" not in text


def test_nonce_set_in_a_layout_is_the_request_nonce(app: App) -> None:
    async def nonce(ctx: Context) -> None:
        ctx.state.csp_nonce = "abc"

    app.before_all(nonce)
    app.templates.register_plugin("uppercase", str.upper)

    @app.get("/")
    async def home(ctx: Context) -> Any:
        return await ctx.render("home", {"user": {"name": "Ada"}})

    with TestClient(app) as client:
        text = client.get("/").text
    assert '<style nonce="abc">' in text
    assert 'data-nonce="abc"' in text


def test_module_views_with_globs() -> None:
    app = App(log_exceptions=False)
    engine = TemplateEngine(use_modules=True, path={"views": FIXTURES / "modules" / "**" / "pages"})
    engine.configure(app)

    @app.get("/books")
    async def books(ctx: Context) -> Any:
        return await ctx.module("books").render("home", {"title": "All"}, status=203)

    @app.get("/admin/users")
    async def users(ctx: Context) -> Any:
        return await ctx.module("admin/users").render("list", {"users": ["<a>", "b"]})

    @app.get("/escape")
    async def escape(ctx: Context) -> Any:
        return await ctx.module("../../views").render("plain")

    with TestClient(app) as c:
        books_response = c.get("/books")
        assert books_response.status_code == 203
        assert books_response.text == "<h1>Books: All</h1>\n"
        assert c.get("/admin/users").text == "<ul>\n  <li>&lt;a&gt;</li>\n  <li>b</li>\n</ul>\n"
        assert c.get("/escape").status_code == 500

    with pytest.raises(ConfigurationError, match=r"ctx\.module"):
        render(engine, "home")
    with pytest.raises(TemplateNotFoundError, match="outside"):
        render(engine, "home", module="..")
    with pytest.raises(ConfigurationError, match="use_modules=False"):
        render(fixture_engine(), "plain", module="books")


def test_template_errors_become_500_responses(tmp_path: Path) -> None:
    app = App(log_exceptions=False)
    tmp_engine(tmp_path, {"t": "@if x\nnever closed\n"}).configure(app)

    @app.get("/")
    async def home(ctx: Context) -> Any:
        return await ctx.render("t")

    with TestClient(app) as c:
        response = c.get("/")
    assert response.status_code == 500
    assert "never closed" not in response.text


def test_ctx_render_without_an_engine_is_a_configuration_error() -> None:
    app = App(log_exceptions=False)
    failures: list[BaseException] = []

    @app.get("/")
    async def home(ctx: Context) -> Any:
        try:
            return await ctx.render("x")
        except ConfigurationError as exc:
            failures.append(exc)
            raise

    with TestClient(app) as c:
        assert c.get("/").status_code == 500
    assert "app.templates" in str(failures[0])


# -- TPL-01 other engines ---------------------------------------------------------------------


def test_custom_engine_objects_plug_into_app_templates() -> None:
    class Upper:
        def render(
            self, view: str, data: dict[str, Any], *, ctx: Any = None, module: Any = None
        ) -> str:
            return f"{module}:{view}:{data['x']}:{ctx.request.path}".upper()

    class Later:
        async def render(self, view: str, data: dict[str, Any], **_: Any) -> str:
            await asyncio.sleep(0)
            return f"<p>{view}</p>"

    app = App()
    app.templates = Upper()

    @app.get("/a")
    async def a(ctx: Context) -> Any:
        return await ctx.module("m").render("v", {"x": "y"})

    with TestClient(app) as c:
        response = c.get("/a")
    assert response.text == "M:V:Y:/A"
    assert response.headers["content-type"].startswith("text/html")

    app2 = App()
    app2.templates = Later()

    @app2.get("/b")
    async def b(ctx: Context) -> Any:
        return await ctx.render("later")

    with TestClient(app2) as c:
        assert c.get("/b").text == "<p>later</p>"


def test_jinja2_engine_over_http() -> None:
    app = App(log_exceptions=False)
    Jinja2Engine(FIXTURES / "jinja").configure(app)

    async def nonce(ctx: Context) -> None:
        ctx.state.csp_nonce = "jn"
        ctx.state.csrf_token = "t<1>"

    app.before_all(nonce)

    @app.get("/")
    async def home(ctx: Context) -> Any:
        return await ctx.render("home", {"title": "<T>", "body": "<b>x</b>"})

    @app.get("/notes")
    async def notes(ctx: Context) -> Any:
        return await ctx.render("notes.txt", {"body": "<b>as is</b>"})

    @app.get("/books")
    async def books(ctx: Context) -> Any:
        return await ctx.module("books").render("list", {"title": "<all>"})

    with TestClient(app) as c:
        home_text = c.get("/").text
        assert "<title>&lt;T&gt;</title>" in home_text
        assert "<p>&lt;b&gt;x&lt;/b&gt;</p>" in home_text
        assert '<script nonce="jn"></script>' in home_text
        assert '<input type="hidden" name="_csrf" value="t&lt;1&gt;">' in home_text
        assert c.get("/notes").text == "Plain text: <b>as is</b>"  # Jinja2 drops the last \\n
        assert c.get("/books").text == "<p>module view &lt;all&gt;</p>"


def test_jinja2_engine_errors_and_path_safety() -> None:
    engine = Jinja2Engine(FIXTURES / "jinja")
    with pytest.raises(TemplateSyntaxError) as info:
        render(engine, "broken")
    assert str(info.value.filename).endswith("broken.html")
    assert info.value.lineno == 2
    assert "broken.html:2: Unexpected end of template" in str(info.value)
    for name in ("../views/plain/page", "../../etc/passwd", "missing"):
        with pytest.raises(TemplateNotFoundError):
            render(engine, name)


def test_jinja2_engine_accepts_a_loader_or_an_environment() -> None:
    loader = DictLoader({"a.html": "<p>{{ v }}</p>{{ generate_nonce() }}", "b.txt": "{{ v }}"})
    by_loader = Jinja2Engine(loader)
    assert render(by_loader, "a", {"v": "<x>"}) == "<p>&lt;x&gt;</p>"
    assert render(by_loader, "b.txt", {"v": "<x>"}) == "<x>"
    assert by_loader.render_sync("a", {"v": 1}) == "<p>1</p>"
    env = Environment(loader=loader, autoescape=False)
    assert render(Jinja2Engine(env), "a", {"v": "<x>"}) == "<p><x></p>"
    with pytest.raises(ConfigurationError):
        Jinja2Engine(env, autoescape=True)
    with pytest.raises(ConfigurationError):
        Jinja2Engine(Environment())


def test_jinja2_engine_fetches_flashes_only_for_templates_that_use_them() -> None:
    app = App()
    loader = DictLoader(
        {
            "with.html": "{% include 'part.html' %}",
            "part.html": "{% for m in get_flashed_messages() %}<b>{{ m }}</b>{% endfor %}",
            "without.html": "plain",
        }
    )
    engine = Jinja2Engine(loader)
    engine.configure(app)

    async def flashes(ctx: Context) -> None:
        ctx.state.flashes = ["<one>", "two"]

    app.before_all(flashes)

    @app.get("/{view}")
    async def page(ctx: Context, view: str) -> Any:
        return await ctx.render(view)

    with TestClient(app) as c:
        assert c.get("/with").text == "<b>&lt;one&gt;</b><b>two</b>"
        assert c.get("/without").text == "plain"
    assert engine._entries["with.html"].uses_flashes
    assert not engine._entries["without.html"].uses_flashes


# -- TPL-04 generate() outside requests -------------------------------------------------------


def test_generate_outside_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)
    engine = fixture_engine()
    expected = (
        "<p>Hi &lt;Ada&gt;, your account is ready.</p>\n"
        "<p>nonce=[] csrf=[] request=[]</p>\n"
        "<p>-- The team</p>\n"
    )
    assert asyncio.run(engine.generate("mail/account-created", {"name": "<Ada>"})) == expected
    assert asyncio.run(engine.generate("mail/account-created.html", {"name": "<Ada>"})) == expected
    absolute = FIXTURES / "mail" / "account-created"
    assert asyncio.run(engine.generate(absolute, {"name": "<Ada>"})) == expected
    assert engine.generate_sync("mail/account-created", {"name": "<Ada>"}) == expected
    with pytest.raises(TemplateNotFoundError, match=r"account-deleted\.html"):
        asyncio.run(engine.generate("mail/account-deleted"))


def test_generate_inside_a_request_can_bind_the_request(app: App) -> None:
    @app.get("/mail")
    async def mail(ctx: Context) -> Any:
        ctx.state.csp_nonce = "N"
        return ctx.text(
            await app.templates.generate(FIXTURES / "mail/account-created", {"name": "x"}, ctx=ctx)
        )

    with TestClient(app) as client:
        assert "nonce=[N]" in client.get("/mail").text


# -- errors point at the Harpia file and line -------------------------------------------------


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        ("a\nb\n@if x\nc\n", 3, "@if is never closed: add @endif"),
        (
            "a\n@for x in xs\n@if y\n@endfor\n",
            4,
            "@endfor while @if (line 3) is open: expected @endif",
        ),
        ("@block('b')\n@else\n@endblock", 2, "@else inside @block (line 1), not @if or @for"),
        ("\n\n@endif\n", 3, "@endif without a matching @if"),
        ("@if a\n@else\n@else\n@endif", 3, "a second @else"),
        ("@if a\n@else\n@elseif b\n@endif", 3, "@elseif after @else"),
        ("x\n{{ }}\n", 2, "empty {{ }}"),
        ("x\n\n{{ a +* b }}", 3, "unexpected '*'"),
        ("{{ name\n\n", 3, "expected '}}'"),
        ("{{ 'abc }}", 1, "unterminated string"),
        ("{{ `tpl` }}", 1, "template literals"),
        ("{{ a = 1 }}", 1, "expected '}}'"),
        ("{{ $x }}", 1, "unexpected '$'"),
        ("{{ 12abc }}", 1, "bad number"),
        ("{{ a.__dict__ }}", 1, "not accessible"),
        ("@set x 1 @endset", 1, "expected '='"),
        ("@set x = 1\n\nfoo", 3, "expected @endset"),
        ("@set x = 1\n\n<p>", 3, "unexpected end of template"),
        ("@set if = 1 @endset", 1, "cannot be a variable name"),
        ("@endset", 1, "@endset without @set"),
        ("@if x <p>inline</p> @endif", 1, "unexpected '/'"),
        ("@if x @endif", 1, "runs to the end of its line"),
        ("@for x of xs\n@endfor", 1, "expected 'in'"),
        ("@for [k, v in obj\n@endfor", 1, "expected ']'"),
        ("@block content\n@endblock", 1, "expected '('"),
        ("@block(name)\n@endblock", 1, "must be a quoted string"),
        ("@block('a-b')\n@endblock", 1, "cannot be a block name"),
        ("@block('a')\n@endblock\n@block('a')\n@endblock", 3, "defined twice"),
        ("@yield('a', 'b')", 1, "takes @yield"),
        ("@if x\n@block('a')\n@endblock\n@endif", 2, "@block must be at the top level"),
        ("@import('p', 'props')", 1, "object literal"),
        ("@import('p', { [k]: 1 })", 1, "object literal"),
        ("@import('p', { 'a-b': 1 })", 1, "cannot be a variable name"),
    ],
)
def test_syntax_errors_name_the_file_and_the_harpia_line(
    tmp_path: Path, source: str, line: int, message: str
) -> None:
    write(tmp_path, {"views/t/p.html": "", "components/c.html": ""})
    with pytest.raises(TemplateSyntaxError) as info:
        render_source(tmp_path, source, {"x": 1})
    filename = str(tmp_path / "views" / "t" / "page.html")
    assert info.value.filename == filename
    assert info.value.lineno == line
    assert message in info.value.message
    assert str(info.value).startswith(f"{filename}:{line}: ")


@pytest.mark.parametrize(
    ("files", "line", "message"),
    [
        ({"t": "@layout('main')\n<p>stray</p>\n@block('a')@endblock"}, 2, "outside @block"),
        ({"t": "@layout('main')\n@block('a')@endblock\n{{ x }}"}, 3, "outside @block"),
        ({"t": "<p>early</p>\n@layout('main')\n"}, 1, "before @layout"),
        ({"t": "@layout('main')\n@layout('main')\n"}, 2, "only one @layout"),
        ({"t": "@if a\n@layout('main')\n@endif"}, 1, "@if before @layout"),
        ({"t": "@block('a')\n@layout('main')\n@endblock"}, 2, "@layout must be at the top level"),
    ],
)
def test_layout_view_structure_errors(
    tmp_path: Path, files: dict[str, str], line: int, message: str
) -> None:
    engine = tmp_engine(tmp_path, {"layouts/main.html": "@yield('a')", **files})
    with pytest.raises(TemplateSyntaxError) as info:
        render(engine, "t")
    assert (info.value.lineno, message in info.value.message) == (line, True)


def test_missing_references_name_the_looked_up_path_and_the_referencing_line(
    tmp_path: Path,
) -> None:
    engine = tmp_engine(tmp_path, {"t": "ok\n\n@component('nope', { a: 1 })\n"})
    with pytest.raises(TemplateNotFoundError) as info:
        render(engine, "t")
    looked = tmp_path / "components" / "nope.html"
    assert str(info.value) == (
        f"component 'nope' not found: looked for {looked} ({tmp_path / 'views/t/page.html'}:3)"
    )
    write(tmp_path, {"views/u/page.html": "@layout('gone')"})
    with pytest.raises(
        TemplateNotFoundError, match=r"layout 'gone' not found: looked for .*gone\.html"
    ):
        render(engine, "u")
    with pytest.raises(TemplateNotFoundError) as missing:
        render(engine, "missing/view")
    assert str(missing.value) == (
        f"view 'missing/view' not found: looked for {tmp_path / 'views/missing/view/page.html'}"
    )


def test_layouts_and_components_need_their_folders(tmp_path: Path) -> None:
    write(tmp_path, {"views/t/page.html": "@layout('x')", "views/u/page.html": "@component('x')"})
    engine = TemplateEngine(path={"views": tmp_path / "views"})
    with pytest.raises(TemplateNotFoundError, match=r"path\['layouts'\] to be set"):
        render(engine, "t")
    with pytest.raises(TemplateNotFoundError, match=r"path\['components'\] to be set"):
        render(engine, "u")


def test_render_errors_point_at_the_template_line(tmp_path: Path) -> None:
    engine = tmp_engine(
        tmp_path,
        {
            "t": "one\ntwo\n{{ nope(1) }}\n",
            "views/strict/page.html": "a\n\n\n{{ user.name }}\n",
            "views/plugin/page.html": "a\n@component('bad')\n",
            "components/bad.html": "x\ny\n{{ fail() }}\n",
        },
    )
    with pytest.raises(TemplateRenderError) as info:
        render(engine, "t")
    assert str(info.value) == f"{tmp_path / 'views/t/page.html'}:3: 'nope' is undefined"

    strict = tmp_engine(tmp_path, strict_undefined=True)
    with pytest.raises(TemplateRenderError) as strict_info:
        render(strict, "strict")
    assert strict_info.value.lineno == 4
    assert "'user' is undefined" in strict_info.value.message
    assert render(strict, "strict", {"user": {"name": "x"}}) == "a\n\n\nx\n"

    def fail() -> None:
        raise ValueError("plugin broke")

    engine.register_plugin("fail", fail)
    with pytest.raises(ValueError, match="plugin broke") as plugin_info:
        render(engine, "plugin")
    assert f"in template {tmp_path / 'components/bad.html'}, line 3" in plugin_info.value.__notes__


def test_undecodable_template_files_are_reported(tmp_path: Path) -> None:
    (tmp_path / "views/t").mkdir(parents=True)
    (tmp_path / "views/t/page.html").write_bytes(b"caf\xe9")
    with pytest.raises(TemplateSyntaxError, match="not UTF-8"):
        render(tmp_engine(tmp_path), "t")


def test_translation_keeps_every_line_number() -> None:
    engine = fixture_engine()
    for view in ("home", "secure", "section", "plain"):
        source = (FIXTURES / "views" / view / "page.html").read_text()
        assert engine.jinja_source(view).count("\n") == source.count("\n")


# -- views must not leave their folders --------------------------------------------------------


@pytest.mark.parametrize(
    "view",
    [
        "../../etc/passwd",
        "../layouts/main",
        "home/../../components/card",
        "/etc/passwd",
        "..\\..\\etc\\passwd",
        "home\x00",
        "",
    ],
)
def test_views_cannot_escape_their_folder(view: str) -> None:
    with pytest.raises(TemplateNotFoundError):
        render(fixture_engine(view_name=None), view)


def test_view_names_from_requests_cannot_escape(app: App) -> None:
    @app.get("/page")
    async def page(ctx: Context) -> Any:
        try:
            return await ctx.render(ctx.request.query.get("v", ""))
        except TemplateNotFoundError:
            return ctx.text("not found", 404)

    with TestClient(app) as client:
        assert client.get("/page", params={"v": "plain"}).status_code == 200
        for attempt in (
            "../../../../etc/passwd",
            "../layouts/main",
            "/etc/passwd",
            "plain/../../x",
        ):
            response = client.get("/page", params={"v": attempt})
            assert (response.status_code, response.text) == (404, "not found")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("@import('../../../../etc/passwd')", "leaves the template folders"),
        ("@layout('../views/t/page')", "is outside"),
        ("@component('../../x')", "is outside"),
        ("@import('/etc/passwd')", "relative path"),
    ],
)
def test_references_cannot_escape_the_template_folders(
    tmp_path: Path, source: str, message: str
) -> None:
    write(tmp_path, {"layouts/x.html": "", "x.html": ""})
    with pytest.raises(TemplateNotFoundError, match=message):
        render_source(tmp_path, source)


# -- TPL-02 options -----------------------------------------------------------------------------


def test_view_name_and_file_extension_options(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "views/home/index.txt": "index {{ v }}",
            "views/flat.txt": "flat {{ v }}",
            "views/admin/users.txt": "users",
        },
    )
    indexed = TemplateEngine(
        view_name="index", file_extension=".txt", path={"views": tmp_path / "views"}
    )
    flat = TemplateEngine(view_name=None, file_extension=".txt", path={"views": tmp_path / "views"})
    assert render(indexed, "home", {"v": "<&>"}) == "index &lt;&amp;&gt;"  # always escaped
    assert render(flat, "flat", {"v": 1}) == "flat 1"
    assert render(flat, "admin/users") == "users"


def test_default_views_folder_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"views/home/page.html": "home"})
    monkeypatch.chdir(tmp_path)
    engine = TemplateEngine()
    monkeypatch.chdir(FIXTURES)
    assert render(engine, "home") == "home"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"file_extension": "html"}, "file_extension"),
        ({"view_name": "a/b"}, "view_name"),
        ({"path": {"view": "x"}}, "unknown template path"),
        ({"path": {"layouts": "x"}}, "needs 'views'"),
        ({"use_modules": True, "path": {"views": "modules"}}, "one '\\*\\*' segment"),
        ({"use_modules": True, "path": {"views": "a/**/b/**"}}, "one '\\*\\*' segment"),
        ({"path": {"views": "modules/**/pages"}}, "needs use_modules=True"),
    ],
)
def test_bad_options_are_configuration_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        TemplateEngine(**options)


def test_configure_sets_app_templates_and_ignores_a_shield_argument() -> None:
    app = App()
    engine = fixture_engine()
    engine.configure(app, object())
    assert app.templates is engine


# -- caching and threads ----------------------------------------------------------------------


def test_templates_are_cached_until_auto_reload(tmp_path: Path) -> None:
    files = {
        "t": "@layout('base')\n@block('b')v1 @component('c')@endblock",
        "layouts/base.html": "L1 @yield('b')",
        "components/c.html": "C1",
    }
    cached = tmp_engine(tmp_path, files)
    reloading = tmp_engine(tmp_path, auto_reload=True)
    assert render(cached, "t") == render(reloading, "t") == "L1 v1 C1"

    write(tmp_path, {"views/t/page.html": files["t"].replace("v1", "v2")})
    write(tmp_path, {"layouts/base.html": "L2 @yield('b')", "components/c.html": "C2"})
    for path in ("views/t/page.html", "layouts/base.html", "components/c.html"):
        os.utime(tmp_path / path, ns=(10**18, 10**18))  # a clearly newer mtime
    assert render(cached, "t") == "L1 v1 C1"
    assert render(reloading, "t") == "L2 v2 C2"

    for path in ("views/t/page.html", "layouts/base.html", "components/c.html"):
        (tmp_path / path).unlink()
    assert render(cached, "t") == "L1 v1 C1"  # nothing is read again
    with pytest.raises(TemplateNotFoundError):
        render(reloading, "t")


def test_cache_eviction_does_not_read_files_again(tmp_path: Path) -> None:
    engine = tmp_engine(
        tmp_path,
        {"t": "@component('a')@component('b')", "components/a.html": "A", "components/b.html": "B"},
        cache_size=1,
    )
    assert render(engine, "t") == "AB"
    for name in ("a", "b"):
        (tmp_path / f"components/{name}.html").unlink()
    assert render(engine, "t") == "AB"


class RecordingLoader(BaseLoader):
    """A real Jinja2 loader that notes the thread of every read."""

    def __init__(self, templates: dict[str, str]) -> None:
        self.templates = templates
        self.reads: list[tuple[str, int]] = []

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Any]:
        self.reads.append((template, threading.get_ident()))
        return self.templates[template], template, lambda: True


def test_first_render_loads_in_a_thread_and_later_renders_read_nothing() -> None:
    loader = RecordingLoader({"page.html": "{% include 'part.html' %}{{ v }}", "part.html": "P"})
    engine = Jinja2Engine(loader)

    async def scenario() -> tuple[int, list[str]]:
        loop_thread = threading.get_ident()
        outputs = [await engine.render("page", {"v": i}) for i in range(3)]
        return loop_thread, outputs

    loop_thread, outputs = asyncio.run(scenario())
    assert outputs == ["P0", "P1", "P2"]
    assert loader.reads, "the templates were read"
    assert all(thread != loop_thread for _, thread in loader.reads)
    reads = len(loader.reads)
    asyncio.run(engine.render("page", {"v": 9}))
    assert len(loader.reads) == reads


# -- more hostile input and corner cases -------------------------------------------------------


def test_keys_from_data_cannot_reach_dunder_attributes(tmp_path: Path) -> None:
    class Account:
        name = "acct"

        def __init__(self) -> None:
            self.balance = 10

    source = "[{{ obj[key] }}][{{ obj[key][key2] }}][{{ acct[key] }}][{{ acct[field] }}][{{ obj[field] }}]"
    for key in ("__class__", "__init__", "__dict__", "__globals__"):
        out = render_source(
            tmp_path,
            source,
            {
                "obj": {"name": "d"},
                "acct": Account(),
                "key": key,
                "key2": "__globals__",
                "field": "name",
            },
        )
        assert out == "[][][][acct][d]"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("obj.if", "kw"),
        ("obj.in + obj.true", "ab"),
        ("flag ?.5 : 1", "0.5"),
        ("'two \\\nlines'", "two lines"),
        ("counter.length", "7"),
        ("pairs_obj", "p"),
        ("[1] + [2]", "[1, 2]"),
        ("raw(safe) + '<i>'", "<b>&lt;i&gt;"),
        ("'<i>' + raw(safe)", "&lt;i&gt;<b>"),
        ("range(3).length", "3"),
    ],
)
def test_more_expressions(tmp_path: Path, expression: str, expected: str) -> None:
    class Counter:
        length = 7

    class Pairs:
        def items(self) -> list[tuple[str, str]]:
            return [("p", "q")]

    source = "{{ " + expression + " }}"
    if expression == "pairs_obj":
        source = "@for [k, v] in pairs_obj\n{{ k }}@endfor"
    data = {
        "obj": {"if": "kw", "in": "a", "true": "b"},
        "flag": True,
        "counter": Counter(),
        "pairs_obj": Pairs(),
        "safe": Markup("<b>"),
    }
    assert render_source(tmp_path, source, data) == expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ a | upper }}", "Jinja2 filters are not available"),
        ("{{ 1e999 }}", "too large"),
        ("{{ 'bad \\x4 escape' }}", "bad \\x escape"),
        ("{{ 'bad \\uZZZZ' }}", "bad \\u escape"),
        ("{{ a. }}", "expected a property name after '.'"),
        ("{{ { : 1 } }}", "expected a property name"),
        ("{{ [1 2] }}", "expected ',' or ']'"),
        ("{{ f(1 2) }}", "expected ',' or ')'"),
        ("{{ (1 }}", "expected ')'"),
        ("{{ a ? b }}", "':' of the ?: expression"),
        ("{{ { a 1 } }}", "expected ':' after the property name"),
        ("{{ a[1 }}", "expected ']'"),
        ("{{ 'x' }} {{ 'abc", "unterminated string"),
        ("{{ if }}", "unexpected 'if'"),
        ("@for if in xs\n@endfor", "cannot be a loop variable"),
        ("@for x, y z in xs\n@endfor", "expected 'in'"),
        ("@import('p', { a: 1 }, 3)", "takes @import"),
        ("@layout()", "takes @layout"),
    ],
)
def test_more_syntax_errors(tmp_path: Path, source: str, message: str) -> None:
    write(tmp_path, {"views/t/p.html": ""})
    with pytest.raises(TemplateSyntaxError) as info:
        render_source(tmp_path, source)
    assert message in info.value.message
    assert info.value.lineno == 1


def test_flash_messages_from_the_session_are_shown_once(tmp_path: Path) -> None:
    from avian.flash import flash
    from avian.sessions import Session, SessionMiddleware

    app = App()
    app.use(SessionMiddleware(Session()))
    tmp_engine(
        tmp_path,
        {
            "views/messages/page.html": (
                "@for [category, text] in get_flashed_messages(true)\n"
                "<p class='{{ category }}'>{{ text }}</p>\n"
                "@endfor\n"
                "@for text in get_flashed_messages(false, 'error')\n"
                "<b>{{ text }}</b>\n"
                "@endfor\n"
            ),
            "views/other/page.html": "no messages here",
        },
    ).configure(app)

    @app.post("/save")
    async def save(ctx: Context) -> str:
        await flash(ctx, "Saved <it>", "success")
        await flash(ctx, "But check", "error")
        return "ok"

    @app.get("/{view}")
    async def page(ctx: Context, view: str) -> Any:
        return await ctx.render(view)

    with TestClient(app) as client:
        client.post("/save").execute()
        assert client.get("/other").text == "no messages here"  # not consumed
        shown = client.get("/messages").text
        assert shown == (
            "<p class='success'>Saved &lt;it&gt;</p>\n<p class='error'>But check</p>\n"
            "<b>But check</b>\n"
        )
        assert client.get("/messages").text == ""


def test_flashes_set_on_state_as_plain_strings(tmp_path: Path) -> None:
    app = App()
    tmp_engine(
        tmp_path, {"t": "{{ get_flashed_messages() }}|{{ get_flashed_messages(true) }}"}
    ).configure(app)

    @app.get("/")
    async def home(ctx: Context) -> Any:
        ctx.state.flashes = ["plain"]
        return await ctx.render("t")

    with TestClient(app) as client:
        assert client.get("/").text == "[&#39;plain&#39;]|[(&#39;message&#39;, &#39;plain&#39;)]"


def test_generate_with_an_explicit_missing_extension(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)
    with pytest.raises(TemplateNotFoundError, match=r"looked for .*nope\.html$"):
        fixture_engine().generate_sync("mail/nope.html")


def test_jinja2_engine_missing_include_while_rendering() -> None:
    engine = Jinja2Engine(DictLoader({"a.html": "x{% include name %}"}))
    with pytest.raises(TemplateNotFoundError, match=r"'gone\.html' not found"):
        render(engine, "a", {"name": "gone.html"})


def test_the_custom_engine_example_from_the_docs() -> None:
    import html
    import string

    class DollarEngine:
        def __init__(self, templates: dict[str, str]) -> None:
            self.templates = {name: string.Template(text) for name, text in templates.items()}

        def render(
            self, view: str, data: dict[str, Any], *, ctx: Any = None, module: Any = None
        ) -> str:
            safe = {key: html.escape(str(value)) for key, value in data.items()}
            return self.templates[view].substitute(safe)

    app = App()
    app.templates = DollarEngine({"hello": "<h1>Hello $name</h1>"})

    @app.get("/hello/{name}")
    async def hello(ctx: Context, name: str) -> Any:
        return await ctx.render("hello", {"name": name})

    with TestClient(app) as client:
        assert client.get("/hello/%3Cb%3E").text == "<h1>Hello &lt;b&gt;</h1>"


def test_the_htmx_fragment_example_from_the_docs(tmp_path: Path) -> None:
    app = App()
    engine = tmp_engine(
        tmp_path,
        {
            "layouts/main.html": "<html>@yield('rows')</html>",
            "views/books/page.html": (
                "@layout('main')\n@block('rows')\n@for b in books\n<li>{{ b }}</li>\n@endfor\n@endblock\n"
            ),
        },
    )
    engine.configure(app)

    @app.get("/books")
    async def books(ctx: Context) -> Any:
        data = {"books": ["<A>", "B"]}
        if ctx.request.headers.get("hx-request"):
            return ctx.html(await engine.render("books", data, ctx=ctx, block="rows"))
        return await ctx.render("books", data)

    with TestClient(app) as client:
        assert client.get("/books").text == "<html><li>&lt;A&gt;</li>\n<li>B</li>\n</html>"
        fragment = client.get("/books", headers={"hx-request": "true"}).text
        assert fragment == "<li>&lt;A&gt;</li>\n<li>B</li>\n"
