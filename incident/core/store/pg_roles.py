"""PostgreSQL: one login role per person (issue 18).

The app signs every log entry, and that is what ``incident verify`` checks. On a
shared server each person also connects with a login role of their own, so that:

- the server itself names who is connected (``pg_stat_activity``, the server log);
- a leaked password is one person's, revoked alone;
- the database refuses a change to the record even past the app: people are
  members of :data:`GROUP`, which may read and add rows but may not UPDATE,
  DELETE or TRUNCATE the log and the evidence the append-only triggers guard
  (the triggers stand behind that, and only the owner, who runs the migrations,
  may drop a trigger).

The statements are plain SQL for the server's administrator (docs/roles.md);
tests/evidence/test_pg_roles.py runs them on a real server.
"""

from __future__ import annotations

import hashlib
import re

from incident.core.signing import canonical_name
from incident.core.store.guards import GUARDS, PG_TRUNCATE_TABLES

#: The group role every person's login role belongs to.
GROUP = "incident_app"


def role_name(person: str) -> str:
    """The login role of a person: their name in lower case ASCII (``Li Wei`` -> ``li_wei``), or
    ``p_`` and a digest of it when the name is not ASCII (``李伟``)."""
    canonical = canonical_name(person)
    slug = re.sub(r"[^a-z0-9]+", "_", canonical).strip("_")
    if canonical.isascii() and slug and not slug[0].isdigit():
        return slug[:60]
    return "p_" + hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _append_only() -> tuple[list[str], list[str]]:
    """(tables no one may UPDATE, tables no one may DELETE from): those whose trigger always refuses.
    A conditional guard (``result`` while ``log_seq`` is unset, a draft report) stays with the trigger."""
    always = {(g.table, g.op) for g in GUARDS if g.when is None}
    no_update = sorted(t for t, op in always if op == "UPDATE")
    no_delete = sorted(t for t, op in always if op == "DELETE")
    return no_update, no_delete


def group_sql(database: str) -> list[str]:
    """Create (or refresh) the group role's rights; run as the tables' owner after every upgrade."""
    no_update, no_delete = _append_only()
    group = _quote_ident(GROUP)
    return [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {_quote_literal(GROUP)}) "
        f"THEN CREATE ROLE {group} NOLOGIN; END IF; END $$",
        f"GRANT CONNECT ON DATABASE {_quote_ident(database)} TO {group}",
        f"GRANT USAGE ON SCHEMA public TO {group}",
        # working tables (plans, crews, runs, draft reports...) are edited in place
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {group}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {group}",
        f"REVOKE UPDATE ON {', '.join(no_update)} FROM {group}",
        f"REVOKE DELETE ON {', '.join(no_delete)} FROM {group}",
        f"REVOKE TRUNCATE ON {', '.join(PG_TRUNCATE_TABLES)} FROM {group}",
    ]


def person_sql(person: str, password: str | None = None) -> list[str]:
    """Create the login role of ``person`` in the group (``password`` None: the server's other
    authentication, e.g. a certificate or peer)."""
    login = f"LOGIN PASSWORD {_quote_literal(password)}" if password is not None else "LOGIN"
    return [f"CREATE ROLE {_quote_ident(role_name(person))} {login} IN ROLE {_quote_ident(GROUP)}"]
