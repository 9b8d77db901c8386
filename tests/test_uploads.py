"""The Upload middleware: storing files on disk safely (UPL-01, UPL-02, UPL-04).

Every test talks HTTP through the test client and then looks at what a user would see: the
response, and the files in the upload directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from avian import App, ConfigurationError, Context, MiB
from avian.http.uploads import UploadFile
from avian.testing import TestClient
from avian.uploads import StoredFile, Upload, UploadError, human_size

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(200))
GIF = b"GIF89a" + b"\x01\x00\x01\x00" + b"\x00" * 40
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40
PDF = b"%PDF-1.7\n" + b"%" * 100
TOKEN_NAME = re.compile(r"[0-9a-f]{32}")

BOUNDARY = "avianUploadBoundary42"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def raw_multipart(*parts: tuple[str, bytes]) -> bytes:
    """A multipart body built by hand: ``(content-disposition header value, content)``."""
    out = b""
    for disposition, content in parts:
        out += f"--{BOUNDARY}\r\n".encode()
        out += b"Content-Disposition: " + disposition.encode() + b"\r\n"
        out += b"Content-Type: text/plain\r\n\r\n" + content + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The upload directory (not created yet); the working directory is its parent."""
    monkeypatch.chdir(tmp_path)
    return tmp_path / "uploads"


def stored(root: Path) -> list[str]:
    return sorted(os.listdir(root)) if root.exists() else []


def serve(upload: Upload, *, many: bool = False, **route: Any) -> TestClient:
    """An app with ``POST /upload`` behind ``upload.single`` (or ``.multiple``)."""
    app = App()
    route.setdefault("limits", upload.limits)

    @app.post("/upload", middleware=[upload.multiple if many else upload.single], **route)
    async def receive(ctx: Context) -> dict[str, Any]:
        return await ctx.payload()

    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client_for() -> Iterator[Any]:
    clients: list[TestClient] = []

    def make(upload: Upload, **options: Any) -> TestClient:
        client = serve(upload, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


# -- storing ---------------------------------------------------------------------------------


def test_single_stores_the_file_and_merges_it_into_the_payload(root: Path, client_for: Any) -> None:
    client = client_for(Upload("uploads"))

    response = client.post(
        "/upload?source=web",
        files={"file": ("photo.PNG", PNG, "image/png")},
        data={"title": "Holiday"},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["title"] == "Holiday"
    assert body["source"] == "web"
    info = body["file"]
    name = info["filename"]
    assert TOKEN_NAME.fullmatch(name.removesuffix(".png"))
    assert name.endswith(".png")
    assert info == {
        "field": "file",
        "filename": name,
        "original_name": "photo.PNG",
        "extension": ".png",
        "path": {"absolute": str(root / name), "relative": os.path.join("uploads", name)},
        "mimetype": "image/png",
        "size": {"bytes": len(PNG), "value": len(PNG), "symbol": "B"},
    }
    assert (root / name).read_bytes() == PNG
    assert stored(root) == [name]


def test_single_with_the_fluent_file_builder(root: Path, client_for: Any, tmp_path: Path) -> None:
    source = tmp_path / "report.pdf"
    source.write_bytes(PDF)
    client = client_for(Upload("uploads"))

    response = client.post("/upload").file({"file": source}).form_data({"year": "2024"}).execute()

    assert response.status_code == 200, response.text
    info = response.json()["file"]
    assert response.json()["year"] == "2024"
    assert info["original_name"] == "report.pdf"
    assert info["mimetype"] == "application/pdf"
    assert (root / info["filename"]).read_bytes() == PDF


def test_multiple_stores_every_file_under_its_own_server_chosen_name(
    root: Path, client_for: Any, tmp_path: Path
) -> None:
    sources = []
    for index, content in enumerate([PNG, JPEG, GIF]):
        path = tmp_path / f"same-{index}.bin"
        path.write_bytes(content)
        sources.append(path)
    client = client_for(Upload("uploads", field_name="photos"), many=True)

    response = client.post("/upload").files({"photos": sources}).execute()

    assert response.status_code == 200, response.text
    files = response.json()["photos"]
    assert [f["original_name"] for f in files] == ["same-0.bin", "same-1.bin", "same-2.bin"]
    names = [f["filename"] for f in files]
    assert len(set(names)) == 3
    assert stored(root) == sorted(names)
    for info, content in zip(files, [PNG, JPEG, GIF], strict=True):
        assert (root / info["filename"]).read_bytes() == content
        assert info["size"]["bytes"] == len(content)


def test_large_file_spooled_to_disk_is_copied_exactly(root: Path, client_for: Any) -> None:
    content = os.urandom(2 * MiB + 12345)  # past the 1 MiB spool and several copy chunks
    client = client_for(Upload("uploads"))

    response = client.post("/upload", files={"file": ("big.bin", content)})

    assert response.status_code == 200, response.text
    info = response.json()["file"]
    assert info["size"] == {"bytes": len(content), "value": 2.01, "symbol": "MB"}
    assert (root / info["filename"]).read_bytes() == content


def test_empty_file_is_stored_empty(root: Path, client_for: Any) -> None:
    client = client_for(Upload("uploads"))

    response = client.post("/upload", files={"file": ("empty.txt", b"", "text/plain")})

    assert response.status_code == 200, response.text
    info = response.json()["file"]
    assert info["size"] == {"bytes": 0, "value": 0, "symbol": "B"}
    assert (root / info["filename"]).read_bytes() == b""


def test_missing_directories_are_created(tmp_path: Path, client_for: Any) -> None:
    target = tmp_path / "a" / "b" / "c"
    client = client_for(Upload(target))

    response = client.post("/upload", files={"file": ("x.txt", b"hello")})

    assert response.status_code == 200, response.text
    assert (target / response.json()["file"]["filename"]).read_bytes() == b"hello"


def test_directory_removed_at_run_time_is_created_again(root: Path, client_for: Any) -> None:
    client = client_for(Upload("uploads"))
    assert client.post("/upload", files={"file": ("1.txt", b"1")}).status_code == 200
    for name in os.listdir(root):
        os.unlink(root / name)
    root.rmdir()

    response = client.post("/upload", files={"file": ("2.txt", b"2")})

    assert response.status_code == 200, response.text
    assert stored(root) == [response.json()["file"]["filename"]]


def test_mimetype_is_the_declared_type_when_types_are_not_restricted(
    root: Path, client_for: Any
) -> None:
    client = client_for(Upload("uploads"))

    response = client.post("/upload", files={"file": ("a.png", b"not a png", "image/png")})

    assert response.status_code == 200
    assert response.json()["file"]["mimetype"] == "image/png"


# -- naming -----------------------------------------------------------------------------------


def test_prefix_is_prepended(root: Path, client_for: Any) -> None:
    client = client_for(Upload("uploads", prefix="avatar-"))

    response = client.post("/upload", files={"file": ("me.jpg", JPEG, "image/jpeg")})

    name = response.json()["file"]["filename"]
    assert name.startswith("avatar-")
    assert TOKEN_NAME.fullmatch(name.removeprefix("avatar-").removesuffix(".jpg"))


def test_file_name_callable_chooses_the_base_name(root: Path, client_for: Any) -> None:
    seen: list[UploadFile] = []

    def name(upload: UploadFile) -> str:
        seen.append(upload)
        return "user-42"

    client = client_for(Upload("uploads", prefix="avatar_", file_name=name))

    response = client.post("/upload", files={"file": ("Me.JPG", JPEG, "image/jpeg")})

    assert response.json()["file"]["filename"] == "avatar_user-42.jpg"
    assert [u.filename for u in seen] == ["Me.JPG"]
    assert (root / "avatar_user-42.jpg").read_bytes() == JPEG


def test_file_name_including_the_extension_is_not_doubled(root: Path, client_for: Any) -> None:
    client = client_for(Upload("uploads", file_name=lambda f: f"cover{f.extension.upper()}"))

    response = client.post("/upload", files={"file": ("c.png", PNG, "image/png")})

    assert response.json()["file"]["filename"] == "cover.png"


def test_async_file_name_callable(root: Path, client_for: Any) -> None:
    async def name(upload: UploadFile) -> str:
        await asyncio.sleep(0)
        return "from-async"

    client = client_for(Upload("uploads", file_name=name))

    response = client.post("/upload", files={"file": ("a.txt", b"a")})

    assert response.json()["file"]["filename"] == "from-async.txt"


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        ("../../../etc/cron.d/job", "job.txt"),
        ("..\\..\\windows\\evil", "evil.txt"),
        ("/abs/olute", "olute.txt"),
        ("..hidden", "hidden.txt"),
        ("mé photo;rm -rf", "m__photo_rm_-rf.txt"),
        ("x" * 300, "x" * 200 + ".txt"),
    ],
)
def test_file_name_result_is_forced_to_a_plain_base_name(
    root: Path, client_for: Any, chosen: str, expected: str
) -> None:
    client = client_for(Upload("uploads", file_name=lambda f: chosen))

    response = client.post("/upload", files={"file": ("a.txt", b"data")})

    assert response.status_code == 200, response.text
    assert response.json()["file"]["filename"] == expected
    assert stored(root) == [expected]


@pytest.mark.parametrize("chosen", ["", "..", "/", "...", 42])
def test_file_name_returning_nothing_usable_is_a_server_error(
    root: Path, client_for: Any, chosen: Any
) -> None:
    client = client_for(Upload("uploads", file_name=lambda f: chosen))

    response = client.post("/upload", files={"file": ("a.txt", b"data")})

    assert response.status_code == 500
    assert stored(root) == []


def test_keep_extension_false_stores_without_extension(root: Path, client_for: Any) -> None:
    client = client_for(Upload("uploads", keep_extension=False))

    response = client.post("/upload", files={"file": ("photo.png", PNG, "image/png")})

    info = response.json()["file"]
    assert TOKEN_NAME.fullmatch(info["filename"])
    assert info["extension"] == ""
    assert info["original_name"] == "photo.png"


# -- hostile client file names -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("disposition", "original", "extension"),
    [
        ('form-data; name="file"; filename="../../evil.py"', "evil.py", ".py"),
        ('form-data; name="file"; filename="/etc/passwd"', "passwd", ""),
        ('form-data; name="file"; filename="C:\\evil.txt"', "evil.txt", ".txt"),
        ('form-data; name="file"; filename="..\\..\\x.cfg"', "x.cfg", ".cfg"),
        ("form-data; name=\"file\"; filename*=UTF-8''..%2F..%2Fx.txt", "x.txt", ".txt"),
        (
            'form-data; name="file"; filename="safe.txt"; filename*=UTF-8\'\'%2Fetc%2Fshadow',
            "shadow",
            "",
        ),
        ('form-data; name="file"; filename="evil.ph p"', "evil.ph p", ""),
        ('form-data; name="file"; filename="photo.png."', "photo.png.", ".png"),
    ],
)
def test_client_file_names_never_decide_the_stored_path(
    root: Path, tmp_path: Path, client_for: Any, disposition: str, original: str, extension: str
) -> None:
    client = client_for(Upload("uploads"))
    before = sorted(p for p in tmp_path.rglob("*") if p.name != "uploads")

    response = client.post(
        "/upload",
        content=raw_multipart((disposition, b"payload")),
        headers={"content-type": MULTIPART},
    )

    assert response.status_code == 200, response.text
    info = response.json()["file"]
    assert info["original_name"] == original
    assert info["extension"] == extension
    assert TOKEN_NAME.fullmatch(info["filename"].removesuffix(extension))
    assert stored(root) == [info["filename"]]
    assert (root / info["filename"]).read_bytes() == b"payload"
    after = sorted(p for p in tmp_path.rglob("*") if p.parent != root and p != root)
    assert after == before  # nothing written anywhere else


@pytest.mark.parametrize(
    "disposition",
    [
        'form-data; name="file"; filename="a\x00.txt"',
        "form-data; name=\"file\"; filename*=UTF-8''evil%00.txt",
        'form-data; name="file"; filename="photo\u202egnp.txt"',
        'form-data; name="file"; filename=".."',
        "form-data; name=\"file\"; filename*=UTF-8''..",
    ],
)
def test_control_characters_and_dot_names_are_refused(
    root: Path, client_for: Any, disposition: str
) -> None:
    client = client_for(Upload("uploads"))

    response = client.post(
        "/upload",
        content=raw_multipart((disposition, b"payload")),
        headers={"content-type": MULTIPART},
    )

    assert response.status_code == 400
    assert "file name" in response.json()["detail"]
    assert stored(root) == []


def test_blocked_extension_from_the_app_limits_still_applies(root: Path, client_for: Any) -> None:
    client = client_for(Upload("uploads"))

    response = client.post(
        "/upload",
        content=raw_multipart(('form-data; name="file"; filename="C:\\evil.exe"', b"MZ")),
        headers={"content-type": MULTIPART},
    )

    assert response.status_code == 415
    assert stored(root) == []


# -- never overwrite, never follow ---------------------------------------------------------------


def test_existing_file_is_never_overwritten(root: Path, client_for: Any) -> None:
    root.mkdir()
    (root / "fixed.txt").write_bytes(b"original")
    client = client_for(Upload("uploads", file_name=lambda f: "fixed"))

    response = client.post("/upload", files={"file": ("a.txt", b"replacement")})

    assert response.status_code == 409
    assert response.json()["code"] == "FILE_EXISTS"
    assert (root / "fixed.txt").read_bytes() == b"original"


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks on this platform")
def test_symlink_planted_at_the_destination_is_not_followed(
    root: Path, tmp_path: Path, client_for: Any
) -> None:
    root.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"secret")
    (root / "fixed.txt").symlink_to(victim)
    (root / "dangling.txt").symlink_to(tmp_path / "created-by-attacker.txt")
    upload = Upload("uploads", file_name=lambda f: f.filename.removesuffix(".txt"))
    client = client_for(upload)

    first = client.post("/upload", files={"file": ("fixed.txt", b"overwrite!")})
    second = client.post("/upload", files={"file": ("dangling.txt", b"create!")})

    assert first.status_code == second.status_code == 409
    assert victim.read_bytes() == b"secret"
    assert not (tmp_path / "created-by-attacker.txt").exists()


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks on this platform")
def test_upload_root_may_itself_be_a_symlink(tmp_path: Path, client_for: Any) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    client = client_for(Upload(tmp_path / "link"))

    response = client.post("/upload", files={"file": ("a.txt", b"a")})

    assert response.status_code == 200
    assert (real / response.json()["file"]["filename"]).read_bytes() == b"a"


# -- refusals ---------------------------------------------------------------------------------


def test_missing_file_is_400(root: Path, client_for: Any) -> None:
    client = client_for(Upload("uploads", field_name="avatar"))

    no_file = client.post("/upload", files={"other": ("a.txt", b"a")})
    text_value = client.post("/upload", files={"x": ("a.txt", b"a")}, data={"avatar": "a.txt"})
    empty_input = client.post(  # a browser's empty file input
        "/upload",
        content=raw_multipart(('form-data; name="avatar"; filename=""', b"")),
        headers={"content-type": MULTIPART},
    )

    for response in (no_file, text_value, empty_input):
        assert response.status_code == 400
        assert response.json()["detail"] == "No file in field 'avatar'"
        assert response.json()["code"] == "FILE_MISSING"
    assert stored(root) == []


def test_not_a_form_is_415(root: Path, client_for: Any) -> None:
    client = client_for(Upload("uploads"))

    response = client.post("/upload", json={"file": "x"})

    assert response.status_code == 415


def test_two_files_for_single_is_400(root: Path, client_for: Any) -> None:
    client = client_for(Upload("uploads"))

    response = client.post("/upload", files=[("file", ("a.txt", b"a")), ("file", ("b.txt", b"b"))])

    assert response.status_code == 400
    assert response.json()["detail"] == "Expected one file in field 'file', got 2"
    assert stored(root) == []


@pytest.mark.parametrize("route_limits", ["upload", "wide"])
def test_more_than_max_files_is_413(root: Path, client_for: Any, route_limits: str) -> None:
    upload = Upload("uploads", max_files=2)
    limits = upload.limits if route_limits == "upload" else {"max_body_size": 10 * MiB}
    client = client_for(upload, many=True, limits=limits)
    files = [("file", (f"{i}.txt", b"x")) for i in range(3)]

    response = client.post("/upload", files=files)

    assert response.status_code == 413
    assert response.json()["code"] == "TOO_MANY_FILES"
    assert response.json()["detail"] == "Too many files: at most 2"
    assert stored(root) == []
    assert client.post("/upload", files=files[:2]).status_code == 200


@pytest.mark.parametrize("route_limits", ["upload", "wide"])
def test_file_at_max_size_passes_and_one_byte_more_is_413(
    root: Path, client_for: Any, route_limits: str
) -> None:
    # "upload": the parser stops the file as it streams in; "wide": the middleware checks it.
    upload = Upload("uploads", max_size=2 * MiB)
    limits = upload.limits if route_limits == "upload" else {"max_body_size": 10 * MiB}
    client = client_for(upload, limits=limits)

    at_limit = client.post("/upload", files={"file": ("a.bin", b"a" * (2 * MiB))})
    over = client.post("/upload", files={"file": ("b.bin", b"b" * (2 * MiB + 1))})

    assert at_limit.status_code == 200, at_limit.text
    assert at_limit.json()["file"]["size"] == {"bytes": 2 * MiB, "value": 2, "symbol": "MB"}
    assert over.status_code == 413
    assert over.json()["detail"] == "File size exceeds 2 MB"
    assert over.json()["code"] == "FILE_TOO_LARGE"
    assert over.json()["details"]["max_size"] == 2 * MiB
    assert stored(root) == [at_limit.json()["file"]["filename"]]


def test_without_route_limits_the_app_body_limit_applies(root: Path, client_for: Any) -> None:
    upload = Upload("uploads", max_size=5 * MiB)
    plain = client_for(upload, limits=None)
    sized = client_for(upload)

    refused = plain.post("/upload", files={"file": ("a.bin", b"a" * (2 * MiB))})
    accepted = sized.post("/upload", files={"file": ("a.bin", b"a" * (2 * MiB))})

    assert refused.status_code == 413  # App's default max_body_size is 1 MiB
    assert refused.json()["code"] != "FILE_TOO_LARGE"
    assert accepted.status_code == 200
    assert len(stored(root)) == 1


def test_limits_fit_the_files() -> None:
    upload = Upload("u", max_size=3 * MiB, max_files=4)

    assert upload.limits == {
        "max_body_size": 13 * MiB,
        "multipart_max_file_size": 3 * MiB,
        "multipart_max_files": 4,
    }
    assert upload.limits is not upload.limits  # a fresh dict to extend


def test_wrong_extension_is_415(root: Path, client_for: Any) -> None:
    client = client_for(Upload("uploads", allowed_extensions=["PNG", ".jpg"]))

    wrong = client.post("/upload", files={"file": ("a.gif", GIF, "image/gif")})
    none = client.post("/upload", files={"file": ("README", b"text")})
    right = client.post("/upload", files={"file": ("a.Png", PNG, "image/png")})

    assert wrong.status_code == 415
    assert wrong.json()["detail"] == "File extension '.gif' is not allowed; allowed: .png, .jpg"
    assert wrong.json()["code"] == "FILE_EXTENSION_NOT_ALLOWED"
    assert none.status_code == 415
    assert "'(none)'" in none.json()["detail"]
    assert right.status_code == 200
    assert len(stored(root)) == 1


def test_wrong_type_for_a_pattern_is_415(root: Path, client_for: Any) -> None:
    client = client_for(Upload("uploads", allowed_types=["image/*"]))

    text = client.post("/upload", files={"file": ("a.txt", b"hello", "text/plain")})
    jpeg = client.post("/upload", files={"file": ("a.jpg", JPEG, "image/jpeg")})
    webp = client.post("/upload", files={"file": ("a.webp", WEBP, "image/webp")})
    alias = client.post("/upload", files={"file": ("a.jpeg", JPEG, "image/jpg")})
    unsniffed = client.post(
        "/upload", files={"file": ("a.ico", b"\x00\x00\x01\x00", "image/x-icon")}
    )

    assert text.status_code == 415
    assert text.json()["detail"] == "File type 'text/plain' is not allowed; allowed: image/*"
    assert text.json()["code"] == "FILE_TYPE_NOT_ALLOWED"
    assert jpeg.json()["file"]["mimetype"] == "image/jpeg"
    assert webp.json()["file"]["mimetype"] == "image/webp"
    assert alias.json()["file"]["mimetype"] == "image/jpeg"
    assert unsniffed.json()["file"]["mimetype"] == "image/x-icon"
    assert len(stored(root)) == 4


def test_exact_types_and_the_any_pattern(root: Path, client_for: Any) -> None:
    exact = client_for(Upload("uploads", allowed_types=["application/pdf", "image/gif"]))
    anything = client_for(Upload("uploads", allowed_types=["*/*"]))

    assert exact.post("/upload", files={"file": ("a.pdf", PDF, "application/pdf")}).is_success
    assert exact.post("/upload", files={"file": ("a.gif", GIF, "image/gif")}).is_success
    assert exact.post("/upload", files={"file": ("a.png", PNG, "image/png")}).status_code == 415
    assert anything.post("/upload", files={"file": ("a.csv", b"a,b", "text/csv")}).is_success


@pytest.mark.parametrize(
    ("filename", "content", "declared", "detail"),
    [
        ("a.png", b"<html><script>alert(1)</script>", "image/png", "is not image/png"),
        ("a.png", JPEG, "image/png", "is not image/png"),
        ("a.pdf", PNG, "application/pdf", "is not application/pdf"),
        ("a.html", PNG, "image/png", "extension '.html' does not match its content"),
        ("a.jpg", PNG, "image/png", "extension '.jpg' does not match its content"),
    ],
)
def test_declared_type_lying_about_the_content_is_415(
    root: Path, client_for: Any, filename: str, content: bytes, declared: str, detail: str
) -> None:
    client = client_for(Upload("uploads", allowed_types=["image/*", "application/pdf"]))

    response = client.post("/upload", files={"file": (filename, content, declared)})

    assert response.status_code == 415
    assert detail in response.json()["detail"]
    assert stored(root) == []


def test_sniffed_content_must_be_allowed_too(root: Path, client_for: Any) -> None:
    client = client_for(Upload("uploads", allowed_types=["image/*"]))

    response = client.post("/upload", files={"file": ("a", PDF, "image/x-icon")})

    assert response.status_code == 415
    assert response.json()["detail"] == (
        "File content is application/pdf, which is not allowed; allowed: image/*"
    )
    assert stored(root) == []


def test_octet_stream_with_a_sniffed_image_reports_the_image_type(
    root: Path, client_for: Any
) -> None:
    client = client_for(Upload("uploads", allowed_types=["application/octet-stream", "image/*"]))

    response = client.post("/upload", files={"file": ("a", PNG, "application/octet-stream")})

    assert response.json()["file"]["mimetype"] == "image/png"


# -- cleaning up ----------------------------------------------------------------------------------


def test_second_file_refused_means_nothing_is_written(root: Path, client_for: Any) -> None:
    client = client_for(Upload("uploads", max_size=100), many=True, limits={})
    files = [("file", ("ok.txt", b"small")), ("file", ("big.txt", b"x" * 101))]

    response = client.post("/upload", files=files)

    assert response.status_code == 413
    assert not root.exists()


def test_second_file_failing_to_write_removes_the_first(root: Path, client_for: Any) -> None:
    root.mkdir()
    (root / "b.txt").write_bytes(b"keep me")
    upload = Upload("uploads", file_name=lambda f: f.filename.removesuffix(".txt"))
    client = client_for(upload, many=True)
    files = [("file", ("a.txt", b"first")), ("file", ("b.txt", b"second"))]

    response = client.post("/upload", files=files)

    assert response.status_code == 409
    assert response.json()["detail"] == "A file named 'b.txt' already exists"
    assert stored(root) == ["b.txt"]
    assert (root / "b.txt").read_bytes() == b"keep me"


def test_disk_error_is_a_server_error_and_leaves_nothing(tmp_path: Path, client_for: Any) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_bytes(b"")
    client = client_for(Upload(blocker / "uploads"))

    response = client.post("/upload", files={"file": ("a.txt", b"a")})

    assert response.status_code == 500
    assert blocker.read_bytes() == b""


def test_cancelled_upload_removes_files_already_written(root: Path) -> None:
    second_started = asyncio.Event()
    calls = 0

    async def name(upload: UploadFile) -> str:
        nonlocal calls
        calls += 1
        if calls == 2:
            second_started.set()
            await asyncio.Event().wait()  # never returns: the task is cancelled here
        return f"n{calls}"

    upload = Upload("uploads", file_name=name)
    app = App()

    @app.post("/upload", limits=upload.limits)
    async def receive(ctx: Context) -> dict[str, Any]:
        task = asyncio.create_task(upload.save_multiple(ctx))
        await asyncio.wait_for(second_started.wait(), 5)
        before = stored(root)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return {"before": before, "after": stored(root), "uploads": "uploads" in vars(ctx)}

    with TestClient(app) as client:
        files = [("file", ("a.txt", b"first")), ("file", ("b.txt", b"second"))]
        response = client.post("/upload", files=files)

    assert response.json() == {"before": ["n1.txt"], "after": [], "uploads": False}


def test_cancelled_in_the_middle_of_a_large_file_removes_it(root: Path) -> None:
    upload = Upload("uploads", max_size=16 * MiB)
    app = App()

    @app.post("/upload", limits=upload.limits)
    async def receive(ctx: Context) -> dict[str, Any]:
        await ctx.request.form()  # parsed first: only the copy is cancelled
        task = asyncio.create_task(upload.save_single(ctx))
        async with asyncio.timeout(5):
            while not stored(root) and not task.done():
                await asyncio.sleep(0)
        started = stored(root)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return {"started": len(started), "after": stored(root)}

    with TestClient(app) as client:
        response = client.post("/upload", files={"file": ("big.bin", os.urandom(12 * MiB))})

    assert response.json() == {"started": 1, "after": []}


def test_a_write_queued_behind_a_discard_creates_nothing(tmp_path: Path) -> None:
    # The race a cancellation can leave (a worker thread starting after the cleanup) cannot
    # be staged over HTTP, so the destination is driven directly.
    from avian.uploads import _Destination

    late = _Destination(str(tmp_path / "late.bin"))
    late.discard()
    late.write(b"data", True)

    vanished = _Destination(str(tmp_path / "vanished.bin"))
    vanished.write(b"partial", False)
    os.unlink(tmp_path / "vanished.bin")
    vanished.discard()

    assert os.listdir(tmp_path) == []


# -- in handlers and several fields ---------------------------------------------------------------


def test_save_single_and_save_multiple_in_a_handler(root: Path) -> None:
    avatar = Upload("uploads", field_name="avatar", prefix="a-")
    photos = Upload("uploads", field_name="photos", prefix="p-")
    app = App()

    @app.post("/profile", limits={"max_body_size": 4 * MiB})
    async def profile(ctx: Context) -> dict[str, Any]:
        one = await avatar.save_single(ctx)
        many = await photos.save_multiple(ctx)
        assert isinstance(one, StoredFile)
        payload = await ctx.payload()
        return {
            "avatar": one.filename,
            "photos": [p.filename for p in many],
            "payload_avatar": payload["avatar"].filename,
            "payload_photos": len(payload["photos"]),
            "name": payload["name"],
        }

    @app.post("/optional")
    async def optional(ctx: Context) -> dict[str, Any]:
        try:
            await avatar.save_single(ctx)
        except UploadError as exc:
            return {"status": exc.status, "code": exc.code}
        return {"status": 200}

    with TestClient(app) as client:
        response = client.post(
            "/profile",
            files=[
                ("avatar", ("me.png", PNG, "image/png")),
                ("photos", ("1.jpg", JPEG, "image/jpeg")),
                ("photos", ("2.jpg", JPEG, "image/jpeg")),
            ],
            data={"name": "Ada"},
        )
        missing = client.post("/optional", data={"name": "Ada"})

    body = response.json()
    assert body["avatar"].startswith("a-")
    assert all(name.startswith("p-") for name in body["photos"])
    assert len(body["photos"]) == 2
    assert body["payload_avatar"] == body["avatar"]
    assert body["payload_photos"] == 2
    assert body["name"] == "Ada"
    assert len(stored(root)) == 3
    assert missing.json() == {"status": 400, "code": "FILE_MISSING"}


def test_file_and_files_take_several_fields(root: Path) -> None:
    upload = Upload("uploads", max_files=3)
    app = App()

    @app.post("/single", middleware=[upload.file("avatar", "cover")], limits=upload.limits)
    async def single(ctx: Context) -> dict[str, Any]:
        return await ctx.payload()

    @app.post("/lists", middleware=[upload.files("photos", "docs")], limits=upload.limits)
    async def lists(ctx: Context) -> dict[str, Any]:
        return await ctx.payload()

    @app.post("/optional", middleware=[upload.files("photos", "docs", required=False)])
    async def optional(ctx: Context) -> dict[str, Any]:
        return await ctx.payload()

    @app.post("/default", middleware=[upload.file()])
    async def default(ctx: Context) -> dict[str, Any]:
        return await ctx.payload()

    with TestClient(app) as client:
        both = client.post(
            "/single",
            files=[("avatar", ("a.png", PNG, "image/png")), ("cover", ("c.jpg", JPEG))],
        )
        no_cover = client.post("/single", files=[("avatar", ("a.png", PNG, "image/png"))])
        lists_response = client.post(
            "/lists",
            files=[
                ("photos", ("1.png", PNG)),
                ("photos", ("2.png", PNG)),
                ("docs", ("d.pdf", PDF)),
            ],
        )
        over_total = client.post(
            "/lists",
            files=[
                ("photos", ("1.png", PNG)),
                ("photos", ("2.png", PNG)),
                ("docs", ("d.pdf", PDF)),
                ("docs", ("e.pdf", PDF)),
            ],
        )
        only_docs = client.post("/optional", files=[("docs", ("d.pdf", PDF))])
        default_field = client.post("/default", files={"file": ("f.txt", b"f")})

    assert both.status_code == 200, both.text
    assert both.json()["avatar"]["original_name"] == "a.png"
    assert both.json()["cover"]["original_name"] == "c.jpg"
    assert no_cover.status_code == 400
    assert no_cover.json()["detail"] == "No file in field 'cover'"
    assert [f["original_name"] for f in lists_response.json()["photos"]] == ["1.png", "2.png"]
    assert [f["field"] for f in lists_response.json()["docs"]] == ["docs"]
    assert over_total.status_code == 413
    assert only_docs.status_code == 200
    assert "photos" not in only_docs.json()
    assert len(only_docs.json()["docs"]) == 1
    assert default_field.json()["file"]["original_name"] == "f.txt"
    assert len(stored(root)) == 2 + 3 + 1 + 1


# -- configuration --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"path": ""},
        {"path": "a\x00b"},
        {"path": 42},
        {"field_name": ""},
        {"prefix": "../x"},
        {"prefix": ".hidden"},
        {"prefix": "a/b"},
        {"file_name": "avatar"},
        {"allowed_extensions": ".png"},
        {"allowed_types": "image/*"},
        {"allowed_types": ["image"]},
        {"allowed_types": ["*/png"]},
        {"max_size": 0},
        {"max_size": True},
        {"max_files": -1},
        {"max_files": 1.5},
    ],
)
def test_bad_options_are_configuration_errors(options: dict[str, Any]) -> None:
    path = options.pop("path", "uploads")
    with pytest.raises(ConfigurationError):
        Upload(path, **options)


@pytest.mark.parametrize("fields", [("",), ("a", "a")])
def test_bad_field_lists_are_configuration_errors(fields: tuple[str, ...]) -> None:
    with pytest.raises(ConfigurationError):
        Upload("uploads").files(*fields)


def test_options_are_normalised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    upload = Upload(
        "uploads", allowed_extensions=["PNG", ".Jpg"], allowed_types=[" Image/* ", "image/jpg"]
    )

    assert upload.root == str(tmp_path / "uploads")
    assert upload.allowed_extensions == (".png", ".jpg")
    assert upload.allowed_types == ("image/*", "image/jpeg")
    assert "field_name='file'" in repr(upload)


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, (0, "B")),
        (1023, (1023, "B")),
        (1024, (1, "KB")),
        (1536, (1.5, "KB")),
        (2 * MiB, (2, "MB")),
        (int(2.5 * 1024**3), (2.5, "GB")),
        (5 * 1024**4, (5, "TB")),
        (1024**5, (1024, "TB")),
    ],
)
def test_human_size(size: int, expected: tuple[float, str]) -> None:
    assert human_size(size) == expected


# -- the docs page --------------------------------------------------------------------------------

DOCS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "uploads.md"


def test_docs_examples_run_and_behave_as_described(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", DOCS_PAGE.read_text(encoding="utf-8"), re.DOTALL)
    namespace: dict[str, Any] = {"__name__": "docs_uploads"}
    for code in blocks:
        exec(compile(code, "uploads.md example", "exec"), namespace)
    app: App = namespace["app"]

    with TestClient(app) as client:
        avatar = client.post(
            "/avatar", files={"avatar": ("me.png", PNG, "image/png")}, data={"name": "Ada"}
        )
        wrong = client.post("/avatar", files={"avatar": ("me.gif", GIF, "image/gif")})
        album = client.post(
            "/albums/3/photos",
            files=[("photos", ("a.png", PNG, "image/png")), ("photos", ("b.gif", GIF))],
        )
        claim = client.post(
            "/claims",
            files=[
                ("form", ("claim.pdf", PDF, "application/pdf")),
                ("receipt", ("r.jpg", JPEG, "image/jpeg")),
            ],
        )
        evidence = client.post("/claims/1/evidence", files=[("scans", ("s.pdf", PDF))])
        profile = client.post("/profile", files={"avatar": ("me.jpg", JPEG, "image/jpeg")})
        profile_bad = client.post(
            "/profile", files={"avatar": ("me.png", b"text", "image/png")}, data={"name": "Ada"}
        )
        no_avatar = client.post("/profile", data={"name": "Ada"})

    body = avatar.json()
    assert body["name"] == "Ada"
    assert body["avatar"]["filename"].startswith("avatar-")
    assert body["avatar"]["path"]["relative"] == os.path.join(
        "uploads", "avatars", body["avatar"]["filename"]
    )
    assert wrong.status_code == 415
    assert album.json()["album"] == 3
    assert len(album.json()["added"]) == 2
    assert re.fullmatch(r"\d{8}-[0-9a-f]{16}\.pdf", claim.json()["form"])
    assert claim.json()["receipt"].endswith(".jpg")
    assert evidence.json() == {"scans": 1}
    assert profile.json()["avatar"].startswith("avatar-")
    assert profile_bad.json() == {
        "name": "Ada",
        "avatar_error": "File content is not image/png, as its declared type says; "
        "allowed: image/png, image/jpeg",
    }
    assert no_avatar.json() == {"name": "Ada", "avatar": None}
    assert len(os.listdir(tmp_path / "uploads" / "avatars")) == 2
