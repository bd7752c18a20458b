"""Import results from CSV: lab exports and automatic-station series.

**All or nothing.** Every row is checked; if any row is bad, nothing is imported
and every bad row is reported with its line number, the column and the fix. A
half-imported lab batch is worse than none: nobody can tell later which rows
went in. ``--dry-run`` checks the whole file and reports what would be imported.

**Format** (one result per row, first line = header; the full description with an
example is in the README, section "Results"):

==================  =========================================================
column              meaning
==================  =========================================================
sample              label ID of an existing sample (lab exports), or empty
point, sampled_at   for rows without a sample: point number and time (local
round, sampler      UTC+8 ``YYYY-MM-DD HH:MM`` or ISO with offset); rows with
sample_type         the same point/round/time/type share one new sample
parameter           key, name or alias (cadmium, Cd, 镉)
value               number, ``<0.01`` or ``0.01L`` (not detected), ``ND``
value_high          upper end of a semi-quantitative range
detected            yes/no for qualitative results
unit                mg/L, µg/L, ng/L ...
detection_limit     in the same unit as the value
method, principle   a key from methods.toml, or free text with a principle
method_kind         lab (default) | rapid | online
instrument          equipment asset tag
==================  =========================================================

Headers may be the names above, common Chinese headers (样品编号, 检测项目,
检测结果, 单位, 检出限 ...), or anything named in a mapping: a TOML file with a
``[columns]`` table (canonical name = header in the file), ``[defaults]`` (value
used when the column is absent or the cell empty) and ``[parameters]`` (names in
the file -> parameter keys). The CLI also takes ``--col name=header``.

**Encoding.** UTF-8 with or without BOM, UTF-16 with BOM, and GB18030/GBK (what
Chinese lab software and Excel on Chinese Windows write) are detected; the
encoding used is reported. Excel workbooks and undecodable files are refused
with what to do. ``--encoding`` forces one.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, col, select

from incident.core import log, standards
from incident.core.clock import parse_local
from incident.core.datafiles import read_toml
from incident.core.errors import UserError, ValidationErrors
from incident.core.incidents import get_incident
from incident.core.store.tables import LogEntry, Result, result_is_current
from incident.results.entry import (
    METHOD_KINDS,
    SAMPLE_TYPES,
    NewSample,
    ResultInput,
    add_result,
    check_result,
    create_sample,
    get_sample,
)

COLUMNS = (
    "sample",
    "point",
    "round",
    "sampled_at",
    "sampler",
    "sample_type",
    "parameter",
    "value",
    "value_high",
    "detected",
    "unit",
    "detection_limit",
    "method",
    "principle",
    "method_kind",
    "instrument",
)

#: header spellings recognised without a mapping (folded: lower case, no spaces)
HEADER_ALIASES = {
    "样品编号": "sample",
    "样品编码": "sample",
    "sampleid": "sample",
    "samplecode": "sample",
    "点位": "point",
    "点位编号": "point",
    "监测点位": "point",
    "轮次": "round",
    "采样时间": "sampled_at",
    "time": "sampled_at",
    "datetime": "sampled_at",
    "采样人": "sampler",
    "样品类型": "sample_type",
    "检测项目": "parameter",
    "监测项目": "parameter",
    "项目": "parameter",
    "检测结果": "value",
    "监测结果": "value",
    "结果": "value",
    "result": "value",
    "单位": "unit",
    "检出限": "detection_limit",
    "dl": "detection_limit",
    "lod": "detection_limit",
    "分析方法": "method",
    "检测方法": "method",
    "方法": "method",
    "仪器": "instrument",
    "仪器编号": "instrument",
}

#: names used by the row checks (``UserError.where``) -> column
_FIELD_TO_COLUMN = {
    "value high": "value_high",
    "detection limit": "detection_limit",
    "time": "sampled_at",
    "type": "sample_type",
    "parallel-of": "sample",
    "rapid": "method_kind",
    "parameters": "parameter",
}

_SLASH_DATE = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(.*)$")


@dataclass
class Mapping:
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> header in file
    defaults: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)  # file name -> key


def load_mapping(path: str | Path | None, cli_columns: list[str] | None = None) -> Mapping:
    m = Mapping()
    if path:
        data = read_toml(path)
        unknown = set(data) - {"columns", "defaults", "parameters"}
        if unknown:
            raise UserError(
                "errors.results.unknown_table_s", where=str(path), value=", ".join(sorted(unknown))
            )
        for table in ("columns", "defaults"):
            for key, value in data.get(table, {}).items():
                if key not in COLUMNS:
                    raise UserError(
                        "errors.results.not_column_import_format",
                        where=str(path),
                        table=table,
                        key_name=repr(key),
                        value=", ".join(COLUMNS),
                    )
                getattr(m, table)[key] = str(value)
        for name, key in data.get("parameters", {}).items():
            m.parameters[name] = standards.resolve_parameter(key, where=f"{path}: [parameters] {name!r}").key
    for item in cli_columns or []:
        if "=" not in item:
            raise UserError("errors.results.bad", field="col", item=repr(item))
        key, header = (x.strip() for x in item.split("=", 1))
        if key not in COLUMNS:
            raise UserError(
                "errors.results.not_column", field="col", key_name=repr(key), value=", ".join(COLUMNS)
            )
        m.columns[key] = header
    return m


def decode(raw: bytes, *, source: str, encoding: str | None = None) -> tuple[str, str]:
    """Text of a CSV file and the encoding it was read with."""
    if raw.startswith(b"PK\x03\x04") or raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise UserError("errors.results.excel_workbook_not_csv", where=source)
    if encoding:
        try:
            return raw.decode(encoding), encoding
        except LookupError as exc:
            raise UserError(
                "errors.results.unknown_encoding", field="encoding", encoding=repr(encoding)
            ) from exc
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise UserError(
                "errors.results.not_valid_byte_x",
                where=source,
                encoding=encoding,
                value=raw[exc.start],
                line=line,
            ) from exc
    # a byte-order mark names the encoding: bytes that break it are refused, never a traceback
    # (found by the long fuzz run: a UTF-8 BOM followed by a lone 0x80)
    marked = [("UTF-8 (BOM)", "utf-8", 3)] if raw.startswith(b"\xef\xbb\xbf") else []
    if raw.startswith(b"\xff\xfe") or raw.startswith(b"\xfe\xff"):
        marked = [("UTF-16", "utf-16", 0)]
    for label, codec, skip in marked:
        try:
            return raw[skip:].decode(codec), label
        except UnicodeDecodeError as exc:
            line = raw[: skip + exc.start].count(b"\n") + 1
            raise UserError(
                "errors.results.not_valid_byte_x",
                where=source,
                encoding=label,
                value=raw[skip + exc.start] if skip + exc.start < len(raw) else 0,
                line=line,
            ) from None
    if b"\x00" in raw[:4096]:
        raise UserError("errors.results.file_contains_nul_bytes", where=source)
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as utf8_error:
        try:
            return raw.decode("gb18030"), "GB18030 (GBK)"
        except UnicodeDecodeError:
            line = raw[: utf8_error.start].count(b"\n") + 1
            raise UserError(
                "errors.results.file_neither_utf_nor", where=source, value=raw[utf8_error.start], line=line
            ) from None


def _fold(header: str) -> str:
    return header.strip().lower().replace(" ", "").replace("_", "")


def _header_map(headers: list[str], mapping: Mapping, source: str) -> dict[str, int]:
    """canonical column -> index in the row."""
    index: dict[str, int] = {}
    folded = {_fold(h): i for i, h in enumerate(headers)}
    problems = []
    for key, header in mapping.columns.items():
        i = folded.get(_fold(header))
        if i is None:
            problems.append(
                UserError(
                    "errors.results.mapping_names_column_but",
                    where=f"{source}: line 1",
                    header=repr(header),
                    key_name=key,
                    value=", ".join(headers),
                )
            )
        else:
            index[key] = i
    for i, h in enumerate(headers):
        f = _fold(h)
        alias = (
            f if f in {_fold(c) for c in COLUMNS} else HEADER_ALIASES.get(f) or HEADER_ALIASES.get(h.strip())
        )
        if alias:
            key = next(c for c in COLUMNS if _fold(c) == _fold(alias))
            index.setdefault(key, i)
    if "parameter" not in index and "parameter" not in mapping.defaults:
        problems.append(UserError("errors.results.no_parameter_column", where=f"{source}: line 1"))
    if "value" not in index and "detected" not in index:
        problems.append(UserError("errors.results.no_value_column", where=f"{source}: line 1"))
    if "sample" not in index and not ({"point", "sampled_at"} <= set(index)):
        problems.append(UserError("errors.results.rows_cannot_tied_samples", where=f"{source}: line 1"))
    if problems:
        raise ValidationErrors(source, problems)
    return index


def _parse_time(text: str, where: str) -> datetime:
    m = _SLASH_DATE.match(text.strip())
    if m:
        text = f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}{m.group(4)}"
    try:
        return parse_local(text)
    except UserError as exc:
        raise exc.relocated(where) from None


@dataclass
class ImportReport:
    file: str
    encoding: str
    rows: int
    samples_created: int
    results: int
    by_parameter: dict[str, int]
    dry_run: bool
    sha256: str


def import_results(
    session: Session,
    code: str,
    path: str | Path,
    *,
    actor: str,
    mapping: Mapping | None = None,
    encoding: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Import every row or none (see module docstring). Raises ValidationErrors listing all bad rows."""
    path = Path(path)
    source = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError("errors.results.cannot_read_file", where=str(path), strerror=exc.strerror) from exc
    sha = hashlib.sha256(raw).hexdigest()
    inc = get_incident(session, code)
    for e in session.exec(
        select(LogEntry).where(LogEntry.incident_id == inc.id, LogEntry.kind == "results.imported")
    ):
        if json.loads(e.payload_json).get("sha256") == sha:
            raise UserError(
                "errors.results.file_was_already_imported",
                where=str(path),
                code=inc.code,
                summary=e.summary,
                seq=e.seq,
            )
    mapping = mapping or Mapping()
    text, used = decode(raw, source=source, encoding=encoding)
    first = text.split("\n", 1)[0]
    delimiter = (
        "\t" if "\t" in first and "," not in first else (";" if ";" in first and "," not in first else ",")
    )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        headers = next(reader)
    except StopIteration:
        raise UserError("errors.results.file_empty", where=source) from None
    index = _header_map(headers, mapping, source)

    problems: list[UserError] = []
    savepoint = session.begin_nested()
    new_samples: dict[tuple, str] = {}
    seen: dict[tuple[str, str], int] = {}
    by_param: dict[str, int] = defaultdict(int)
    n_rows = n_results = 0
    line_end = 1
    for row in reader:
        line = line_end + 1
        line_end = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        n_rows += 1

        def cell(key: str, row=row) -> str:
            i = index.get(key)
            value = row[i].strip() if i is not None and i < len(row) else ""
            return value or mapping.defaults.get(key, "")

        def col_where(key: str, line=line) -> str:
            i = index.get(key)
            return (
                f"{source}: line {line}, column {headers[i]!r}"
                if i is not None
                else f"{source}: line {line} ({key})"
            )

        if len(row) != len(headers):
            problems.append(
                UserError(
                    "errors.results.cells_but_header_has",
                    where=f"{source}: line {line}",
                    len_row=len(row),
                    len_headers=len(headers),
                )
            )
            continue
        row_problems: list[UserError] = []
        try:
            sample_code = cell("sample")
            if not sample_code:
                try:
                    sample_code = _new_sample_for_row(session, inc.code, cell, col_where, new_samples, actor)
                except ValidationErrors as exc:
                    row_problems += exc.problems
                except UserError as exc:
                    row_problems.append(exc)
            kind = (cell("method_kind") or "lab").lower()
            if kind not in METHOD_KINDS:
                raise UserError(
                    "errors.results.unknown_method_kind", where=col_where("method_kind"), kind=repr(kind)
                )
            param_text = cell("parameter")
            param_text = mapping.parameters.get(param_text, param_text)
            raw_input = ResultInput(
                sample=sample_code,
                parameter=param_text,
                value=cell("value") or None,
                value_high=cell("value_high") or None,
                unit=cell("unit"),
                detection_limit=cell("detection_limit") or None,
                detected=cell("detected") or None,
                method=cell("method"),
                principle=cell("principle"),
                rapid=kind == "rapid",
                online=kind == "online",
                instrument=cell("instrument"),
            )
            if row_problems:
                # the sample could not be made: still check the row's other fields, so one pass lists everything
                try:
                    check_result(session, inc, replace(raw_input, sample=""))
                except ValidationErrors as exc:
                    row_problems += [p for p in exc.problems if p.where != "sample"]
                raise ValidationErrors(source, row_problems)
            key = (sample_code, standards.resolve_parameter(param_text, where=col_where("parameter")).key)
            if key in seen:
                raise UserError(
                    "errors.results.duplicate_sample_already_line",
                    where=f"{source}: line {line}",
                    value=key[1],
                    value2=key[0],
                    value3=seen[key],
                )
            seen[key] = line
            existing = _existing_result(session, sample_code, key[1])
            if existing is not None:
                raise UserError(
                    "errors.results.sample_already_has_result",
                    where=f"{source}: line {line}",
                    sample_code=sample_code,
                    value=key[1],
                    existing=existing,
                )
            add_result(session, inc.code, raw_input, actor=actor, view=False)
            by_param[key[1]] += 1
            n_results += 1
        except ValidationErrors as exc:
            for p in exc.problems:
                problems.append(_at_column(p, col_where))
        except UserError as exc:
            problems.append(_at_column(exc, col_where))
    if n_rows == 0 and not problems:
        savepoint.rollback()
        raise UserError("errors.results.file_has_header_but", where=source)
    if problems:
        savepoint.rollback()
        raise ValidationErrors(f"{source} (read as {used})", problems)
    report = ImportReport(
        file=str(path),
        encoding=used,
        rows=n_rows,
        samples_created=len(new_samples),
        results=n_results,
        by_parameter=dict(by_param),
        dry_run=dry_run,
        sha256=sha,
    )
    if dry_run:
        savepoint.rollback()
        return report
    log.append(
        session,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="results.imported",
        incident_id=inc.id,
        summary=f"Imported {n_results} results ({len(new_samples)} new samples) from {path.name}",
        payload={"file": path.name, "sha256": sha, "encoding": used, "results": n_results},
    )
    savepoint.commit()
    return report


def _at_column(p: UserError, col_where) -> UserError:
    """Re-home a field-level refusal onto the file, line and column it came from."""
    if p.where and ": line " in p.where:
        return p
    field_name = _FIELD_TO_COLUMN.get(p.where or "", p.where or "")
    where = col_where(field_name) if field_name in COLUMNS else col_where(field_name or "row")
    return p.relocated(where)


def _existing_result(session: Session, sample_code: str, parameter: str) -> int | None:
    try:
        sample = get_sample(session, sample_code)
    except UserError:
        return None
    current = session.exec(
        select(Result.id)
        .where(Result.sample_id == sample.id, Result.parameter == parameter, result_is_current())
        .order_by(col(Result.id).desc())
    ).first()
    return current


def _new_sample_for_row(session, code, cell, col_where, new_samples, actor) -> str:
    point = cell("point")
    when = cell("sampled_at")
    if not point:
        raise UserError("errors.results.empty_7", where=col_where("point"))
    if not when:
        raise UserError("errors.results.empty_8", where=col_where("sampled_at"))
    sampled_at = _parse_time(when, col_where("sampled_at"))
    rnd_text = cell("round")
    rnd = None
    if rnd_text:
        if not rnd_text.isdigit():
            raise UserError(
                "errors.results.not_round_number", where=col_where("round"), rnd_text=repr(rnd_text)
            )
        rnd = int(rnd_text)
    stype = cell("sample_type") or "normal"
    if stype not in SAMPLE_TYPES or stype == "parallel":
        raise UserError(
            "errors.results.sample_type_cannot_created", where=col_where("sample_type"), stype=repr(stype)
        )
    sampler = cell("sampler") or ("automatic station" if cell("method_kind").lower() == "online" else "")
    key = (point.upper(), rnd, sampled_at, stype, sampler)
    if key not in new_samples:
        info = create_sample(
            session,
            code,
            NewSample(point=point, round=rnd, sampled_at=sampled_at, sampler=sampler, sample_type=stype),
            actor=actor,
        )
        new_samples[key] = info.code
    return new_samples[key]
