"""The console's static files: read once, named by a hash of their contents, cached for good.

Every URL carries the hash of the whole set (`/static/<version>/js/core.js`), so a browser may
keep a file for a year without asking again, and a new release, whose files hash differently,
is fetched at once. The files are held in memory with their gzip form (they are small: the
vendored htmx and uPlot are the largest), and only the files listed here are ever served: a
path is looked up in a dict, never joined onto the file system.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

from starlette.types import Receive, Scope, Send

MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
IMMUTABLE = b"public, max-age=31536000, immutable"
# A URL with another version (a page cached from the release before) still gets the file, but
# a browser must not keep it under that name.
REVALIDATE = b"no-cache"


@dataclass(frozen=True)
class Asset:
    """One static file: its bytes, their gzip form when smaller, and its media type."""

    body: bytes
    gzipped: bytes | None
    media_type: str


def load_assets() -> dict[str, Asset]:
    """Read every servable file under `static/`, keyed by its path below it."""
    found: dict[str, Asset] = {}
    root = resources.files("grandlivre.console") / "static"

    def walk(node: Traversable, prefix: str) -> None:
        for child in node.iterdir():
            name = f"{prefix}{child.name}"
            if child.is_dir():
                walk(child, f"{name}/")
                continue
            suffix = "." + child.name.rsplit(".", 1)[-1]
            media_type = MEDIA_TYPES.get(suffix)
            if media_type is None:
                continue
            body = child.read_bytes()
            packed = gzip.compress(body, compresslevel=9, mtime=0)
            found[name] = Asset(body, packed if len(packed) < len(body) else None, media_type)

    walk(root, "")
    return found


def version_of(assets: dict[str, Asset]) -> str:
    """Return a short hash of every file's name and contents."""
    digest = hashlib.sha256()
    for name in sorted(assets):
        digest.update(name.encode())
        digest.update(hashlib.sha256(assets[name].body).digest())
    return digest.hexdigest()[:12]


def accepts_gzip(scope: Scope) -> bool:
    """Tell whether the request's Accept-Encoding admits gzip."""
    for name, value in scope.get("headers", []):
        if name == b"accept-encoding":
            for item in value.decode("latin-1").split(","):
                coding, _, params = item.strip().partition(";")
                if coding.strip().lower() in ("gzip", "*") and params.replace(" ", "") != "q=0":
                    return True
    return False


class StaticAssets:
    """An ASGI app serving `/<version>/<path>` from the loaded assets (GET and HEAD only)."""

    def __init__(self, assets: dict[str, Asset] | None = None) -> None:
        self.assets = assets if assets is not None else load_assets()
        self.version = version_of(self.assets)

    def url(self, name: str) -> str:
        """Return the URL of a static file, with the version in it."""
        if name not in self.assets:
            raise KeyError(f"no static file {name!r}")
        return f"/static/{self.version}/{name}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        # Mounted at /static: the path may or may not keep the prefix, depending on root_path.
        path = path.removeprefix(scope.get("root_path", "")).removeprefix("/static")
        version, _, name = path.lstrip("/").partition("/")
        asset = self.assets.get(name)
        method = scope.get("method", "GET")
        if asset is None or method not in ("GET", "HEAD"):
            status = 404 if asset is None else 405
            text = b"not found" if status == 404 else b"method not allowed"
            headers = [(b"content-type", b"text/plain; charset=utf-8")]
            if status == 405:
                headers.append((b"allow", b"GET, HEAD"))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": text})
            return
        body = asset.body
        headers = [
            (b"content-type", asset.media_type.encode()),
            (b"cache-control", IMMUTABLE if version == self.version else REVALIDATE),
            (b"vary", b"Accept-Encoding"),
            (b"etag", f'"{version_of({name: asset})}"'.encode()),
        ]
        if asset.gzipped is not None and accepts_gzip(scope):
            body = asset.gzipped
            headers.append((b"content-encoding", b"gzip"))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})
