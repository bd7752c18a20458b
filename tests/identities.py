"""Acting as a person in tests: accounts with unprotected, in-memory test keys.

``register(engine, {"Lena Lead": ["team_lead"], ...})`` registers the accounts
(the first one, a team lead, registers itself; it registers the others) and
returns their :class:`Person` objects; ``with acting_as(people["Ann"]):`` then
signs every log entry as Ann. Keys never touch the disk.
"""

from __future__ import annotations

from incident.core import accounts, signing
from incident.core.signing import Person, acting_as
from incident.core.store.engine import session_scope

CAST: dict[str, list[str]] = {
    "Lena Lead": ["team_lead"],
    "Ann Author": ["responder"],
    "Rita Reviewer": ["reviewer"],
    "Rob Reviewer": ["reviewer"],
    "Eddie Equipment": ["equipment_manager"],
    "Xia Controller": ["exercise_controller"],
}


def new_person(name: str) -> Person:
    return Person(name, signing.new_private_key())


def register(engine, cast: dict[str, list[str]] | None = None) -> dict[str, Person]:
    cast = dict(cast or CAST)
    people = {name: new_person(name) for name in cast}
    names = list(cast)
    lead = next(n for n in names if "team_lead" in cast[n])
    with session_scope(engine) as s:
        existing = signing.registry(s).accounts
    order = [lead] + [n for n in names if n != lead]
    for name in order:
        person = people[name]
        signer = person if not existing and name == lead else people[lead]
        with acting_as(signer), session_scope(engine) as s:
            accounts.register_account(s, name, cast[name], person.public_hex)
    return people


__all__ = ["CAST", "acting_as", "new_person", "register"]
