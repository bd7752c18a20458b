"""A writer process for the concurrency tests (as textual-serve or a second terminal would be).

    python -m tests.evidence.writer DB_URL CODE TAG SECONDS START_AT

Waits until START_AT (epoch seconds) so all writers start together, then for
SECONDS alternately logs a Sample + Result on the incident's chain and an entry
on the centre chain, one transaction each, through the app's own code (no
retry loop of its own: what a user would get). Prints one line per commit,
flushed: ``R sample_id result_id digest ms`` or ``L entry_id ms`` (ms: how long
the user waited for that save); an error prints
``E message`` (what a user would have seen) and the writer carries on.
"""

from __future__ import annotations

import sys
import time


def main() -> int:
    db_url, code, tag, seconds, start_at = sys.argv[1:6]
    from incident.core import log
    from incident.core.store.engine import open_store, session_scope
    from incident.core.store.tables import Result
    from tests.evidence.evidence import log_result

    engine = open_store(db_url)  # as the app starts: upgrade check, guards check
    time.sleep(max(0.0, float(start_at) - time.time()))
    deadline = time.monotonic() + float(seconds)
    n = 0
    while time.monotonic() < deadline:
        n += 1
        began = time.monotonic()
        try:
            if n % 2:
                with session_scope(engine) as s:
                    sid, rid = log_result(s, code, f"{tag}-{n}", n / 1000)
                    digest = log.evidence_digest(s.get(Result, rid))
                line = f"R {sid} {rid} {digest}"
            else:
                with session_scope(engine) as s:
                    e = log.append(
                        s, chain=log.CENTRE_CHAIN, actor=tag, kind="note.added", summary=f"{tag} {n}"
                    )
                    entry_id = e.id
                line = f"L {entry_id}"
        except Exception as exc:  # noqa: BLE001 - counted by the test: must be none
            line = "E " + f"{type(exc).__name__}: {exc}".replace("\n", " ")[:300]
        if not line.startswith("E "):
            line += f" {1000 * (time.monotonic() - began):.0f}"
        print(line, flush=True)
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
