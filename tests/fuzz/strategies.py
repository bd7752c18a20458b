"""Hypothesis strategies shared by the fuzz targets: leaf values and mutations of valid documents.

Random bytes rarely get past a parser's first check; a valid document with one
to three fields replaced, removed or retyped reaches the deep validation code.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import tomli_w
from hypothesis import strategies as st

# numbers that break naive code: NaN, ±inf, 0, negatives, huge, tiny
nasty_floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, -1.0, 1e308, -1e308, 5e-324, math.nan, math.inf, -math.inf]),
)
nasty_ints = st.one_of(st.integers(), st.sampled_from([0, -1, 2**63, -(2**63), 2**64]))
nasty_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "O.5", "1,5", "null", "NaN", "玉带河", "\x00", "💧", "-", "today+9999999999"]),
)

json_leaves = st.one_of(st.none(), st.booleans(), nasty_ints, st.floats(allow_nan=False), nasty_text)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(nasty_text, inner, max_size=4)),
    max_leaves=12,
)

toml_leaves = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    nasty_text,
    st.dates(),
    st.datetimes(),
    st.times(),
)
toml_values = st.recursive(
    toml_leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(nasty_text, inner, max_size=4)),
    max_leaves=12,
)


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, prefix + (i,))
    return out


@st.composite
def mutated(draw, base: Any, leaves: st.SearchStrategy, max_mutations: int = 3) -> Any:
    """``base`` with 1..max_mutations nodes replaced by a drawn value, deleted or duplicated."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, max_mutations))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            return draw(leaves)
        path = draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        action = draw(st.sampled_from(["replace", "replace", "delete", "duplicate"]))
        if action == "replace":
            parent[key] = draw(leaves)
        elif action == "delete":
            del parent[key]
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        else:
            parent[key] = [parent[key], copy.deepcopy(parent[key])]  # a scalar becomes a list
    return doc


def to_toml(doc: Any) -> str:
    """TOML text of a document, or of a wrapping table when the root is not one."""
    if not isinstance(doc, dict):
        doc = {"value": doc}
    try:
        return tomli_w.dumps(doc)
    except (TypeError, ValueError):
        return json.dumps(doc, default=str)  # not TOML at all: the loader must say so


def toml_documents(base: dict) -> st.SearchStrategy[str]:
    """Mostly mutated copies of ``base`` as TOML, plus arbitrary text."""
    return st.one_of(
        mutated(base, toml_values).map(to_toml),
        mutated(base, toml_values).map(to_toml),
        st.text(max_size=200),
    )


def json_documents(base: Any) -> st.SearchStrategy[str]:
    return st.one_of(
        mutated(base, json_values).map(lambda d: json.dumps(d, ensure_ascii=False, allow_nan=True)),
        mutated(base, json_values).map(lambda d: json.dumps(d, ensure_ascii=False, allow_nan=True)),
        st.text(max_size=200),
    )


__all__ = [
    "json_documents",
    "json_values",
    "mutated",
    "nasty_floats",
    "nasty_ints",
    "nasty_text",
    "toml_documents",
    "toml_values",
]
