"""`incident serve` works with the README's one install command, fully offline: the page it
serves requests nothing from another origin (no web fonts, no CDN scripts), and everything it
does request is served locally."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from urllib.parse import urlparse

from aiohttp.test_utils import TestClient, TestServer

from incident.cli import build_parser
from incident.cli.evidence.reliability import build_server

ROOT = Path(__file__).resolve().parents[2]
# what a browser fetches by itself: src/href attributes of tags, and url(...) in style sheets
REFERENCE = re.compile(r"""<[a-z]+[^>]*?\s(?:src|href)="([^"]+)"|url\(\s*["']?([^"')]+)""")


def test_textual_serve_is_a_runtime_dependency():
    """The README installs with `pip install -e .` (no extra): serve must not need `[serve]`."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install -q -e . &&" in readme
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    assert any(d.replace(" ", "").startswith("textual-serve") for d in deps)


async def test_the_served_page_requests_nothing_from_another_origin(db_url, people):
    # serve refuses a store without accounts: every browser session logs in as a person
    server = build_server(build_parser().parse_args(["--db", db_url, "serve", "--port", "8765"]))
    app = await server._make_app()
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/")
        assert response.status == 200
        page = await response.text()
        references = [a or b for a, b in REFERENCE.findall(page)]
        assert references, "the page references its script, style sheet and font"
        own = urlparse(server.public_url).netloc
        for ref in references:
            if ref.startswith("#") or ref.startswith("data:") or ref == "http://www.w3.org/2000/svg":
                continue
            url = urlparse(ref)
            assert url.netloc in ("", own), f"the page requests {ref} from another origin"
            got = await client.get(url.path)  # and it is really served, here
            assert got.status == 200, ref
            if url.path.endswith((".css", ".js")):  # what those files load in turn
                body = await got.text()
                for a, b in REFERENCE.findall(body):
                    inner = urlparse(a or b)
                    assert inner.scheme in ("", "data") or inner.netloc == own, (ref, a or b)
        assert "googleapis" not in page and "fonts.gstatic" not in page
        assert any(r.endswith(".ttf") for r in references)  # the font comes from here
