"""Hypothesis strategies shared by the fuzz targets: leaf values and mutations of valid documents.

Random bytes rarely get past a parser's first check; a valid document with one
to three fields replaced, removed or retyped reaches the deep validation code.
"""

from __future__ import annotations

import copy
import csv
import io
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

# what people type into a number field: look-alike letters, decimal commas, IME full-width digits,
# censored values, words for "not detected", exponents cut short, NaN/inf text, huge and tiny numbers
typed_numbers = st.one_of(
    st.sampled_from(
        [
            "0.5", "O.5", "0,5", "0.5.1", "5e", "5e-", "1e999", "-1e999", "1e-999", "<0.01", "< 0.01",
            "0.01L", "0.01l", "<", "L", "<L", "ND", "nd", "未检出", "０.５", "０。５", "１２３", "½", "²",
            "٣", "NaN", "nan", "inf", "-inf", "Infinity", "-0.5", "+0.5", ".5", "5.", "0", "00", "0x10",
            "1_000", "1 000", "1,200.5", " 0.5 ", "\t0.5\n", "−0.5", "0.5mg/L", "<0", "0L", "<<0.1",
            "<-1", "9" * 400, "0." + "0" * 400 + "1", "",
        ]
    ),
    st.from_regex(r"\A[<+\-]?[0-9０-９Ool.,。eE ]{0,8}L?\Z"),
    st.floats().map(repr),
    nasty_text,
)  # fmt: skip


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


@st.composite
def edited_lines(draw, text: str, max_edits: int = 3) -> str:
    """``text`` as a person might break it in an editor: 1..max_edits lines deleted, duplicated,
    replaced, cut short or with a value's quotes dropped; comments and layout are kept, so
    line-numbered messages are exercised on the real file."""
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, max_edits))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "replace", "cut", "unquote", "value"]))
        if action == "delete":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "replace":
            lines[i] = draw(nasty_text)
        elif action == "cut":
            lines[i] = lines[i][: draw(st.integers(0, max(0, len(lines[i]) - 1)))]
        elif action == "unquote":
            lines[i] = lines[i].replace('"', "")
        elif "=" in lines[i]:
            key = lines[i].split("=", 1)[0]
            lines[i] = f"{key}= {draw(st.one_of(typed_numbers, nasty_text.map(json.dumps)))}"
    return "\n".join(lines) + "\n"


def text_documents(text: str, base: dict) -> st.SearchStrategy[str]:
    """A TOML file's own text edited line by line, mutated copies of its data, and arbitrary text."""
    return st.one_of(edited_lines(text), edited_lines(text), toml_documents(base))


def json_documents(base: Any) -> st.SearchStrategy[str]:
    return st.one_of(
        mutated(base, json_values).map(lambda d: json.dumps(d, ensure_ascii=False, allow_nan=True)),
        mutated(base, json_values).map(lambda d: json.dumps(d, ensure_ascii=False, allow_nan=True)),
        st.text(max_size=200),
    )


def cells(leaves: st.SearchStrategy) -> st.SearchStrategy:
    """A CSV cell: usually one of ``leaves``, sometimes with quotes, separators or line breaks."""
    return st.one_of(
        leaves,
        leaves,
        st.sampled_from(['"', '""', ",", ";", "\t", "\n", "\r\n", '"a,b"', "=1+1", "\ufeff", "\x00"]),
        nasty_text,
    )


def _csv_text(rows: Any, delimiter: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    for row in rows if isinstance(rows, list) else [rows]:
        writer.writerow([str(c) for c in row] if isinstance(row, list) else [str(row)])
    return out.getvalue()


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    """A table as CSV file bytes, unchanged (the valid seed of a CSV target)."""
    return _csv_text(rows, ",").encode(encoding)


ENCODINGS = ("utf-8", "utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "latin-1", "big5")


@st.composite
def csv_files(draw, rows: list[list[str]], leaves: st.SearchStrategy = nasty_text) -> bytes:
    """A table (header first) with 1..3 cells or rows replaced, deleted or duplicated, written as
    CSV with a drawn separator and encoding (characters the encoding lacks become '?')."""
    table = draw(mutated(rows, cells(leaves)))
    text = _csv_text(table, draw(st.sampled_from([",", ",", ",", ";", "\t"])))
    return text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")


def csv_documents(rows: list[list[str]], leaves: st.SearchStrategy = nasty_text) -> st.SearchStrategy[bytes]:
    """Mostly mutated copies of ``rows`` as CSV bytes, plus arbitrary text and garbage bytes."""
    return st.one_of(
        csv_files(rows, leaves),
        csv_files(rows, leaves),
        csv_files(rows, leaves),
        st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.binary(max_size=200),
        # a valid file cut short or with a stray byte (a truncated download, a bad sector)
        st.tuples(csv_files(rows, leaves), st.integers(0, 400), st.binary(max_size=3)).map(
            lambda t: t[0][: t[1]] + t[2] + t[0][t[1] :]
        ),
    )


__all__ = [
    "csv_bytes",
    "csv_documents",
    "edited_lines",
    "text_documents",
    "csv_files",
    "typed_numbers",
    "json_documents",
    "json_values",
    "mutated",
    "nasty_floats",
    "nasty_ints",
    "nasty_text",
    "toml_documents",
    "toml_values",
]
