"""Write docs/img/dashboard.svg: the dashboard of the demo incident at 80×24, as the README shows it.

    .venv/bin/python docs/screenshot.py

It loads the demo into a throwaway database, logs a forecast (so the receptors show their arrival
times, as they do once a responder has run one), opens the TUI headless at 80×24 and saves Textual's
SVG screenshot. The SVG is made offline-safe: Textual names a web font on a CDN as a fallback, which
is removed so that viewing the image fetches nothing (tests/core/test_docs.py checks).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img" / "dashboard.svg"
SIZE = (80, 24)


def offline_svg(svg: str) -> str:
    """Drop every remote url(...) source from the SVG's @font-face rules (local() fonts stay)."""
    svg = re.sub(r",?\s*url\(\s*['\"]?https?://[^)]*\)\s*format\([^)]*\)", "", svg)
    return re.sub(r",?\s*url\(\s*['\"]?https?://[^)]*\)", "", svg)


def _cli(*argv: str) -> str:
    from incident.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    if code != 0:
        raise SystemExit(f"incident {' '.join(argv)} failed with exit code {code}")
    return out.getvalue()


async def _shoot(url: str, code: str) -> str:
    from incident.core.config import Settings
    from incident.core.store.engine import open_store
    from incident.tui.app import make_app

    engine = open_store(url)
    app = make_app(engine=engine, settings=Settings(db_url=url, lang="en", user="Li Wei"), incident_code=code)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(3):
            await pilot.pause()
            await app.workers.wait_for_complete()
        await pilot.pause(0.5)
        svg = app.export_screenshot(title="incident: dashboard of the demo incident")
    engine.dispose()
    return svg


def main() -> int:
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["INCIDENT_HOME"] = tmp
        url = f"sqlite:///{Path(tmp) / 'demo.sqlite'}"
        _cli("--db", url, "--user", "Li Wei", "demo")
        code = json.loads(_cli("--db", url, "list", "--json"))[0]["code"]
        _cli("--db", url, "--user", "Li Wei", "forecast", code, "--log")
        svg = offline_svg(asyncio.run(_shoot(url, code)))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(svg, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(svg):,} bytes) of {code} at {SIZE[0]}×{SIZE[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
