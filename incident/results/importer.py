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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, ValidationInfo, field_validator
from sqlmodel import Session, col, select

from incident.core import log, standards
from incident.core.clock import parse_local
from incident.core.datafiles import read_toml
from incident.core.errors import UserError, ValidationErrors
from incident.core.incidents import get_incident
from incident.core.inputs import InputModel, refusals, refuse
from incident.core.store.tables import LogEntry, Result, result_is_current
from incident.results._bulk import BulkWriter
from incident.results.entry import (
    METHOD_KINDS,
    SAMPLE_TYPES,
    NewSample,
    ResultInput,
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


def _columns_only(table: str) -> Callable[[dict[str, str]], dict[str, str]]:
    def check(value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if key not in COLUMNS:
                raise refuse(
                    "errors.results.not_column_import_format",
                    "not a column",
                    field=key,
                    table=table,
                    key_name=repr(key),
                    value=", ".join(COLUMNS),
                )
        return value

    return check


def _as_text(value: object) -> object:
    """A TOML number in a mapping (``round = 1``) is the text of the cell it stands for."""
    if isinstance(value, dict):
        return {
            k: (f"{v:g}" if isinstance(v, float) else str(v)) if isinstance(v, int | float) else v
            for k, v in value.items()
        }
    return value


class MappingFile(InputModel):
    """A mapping file: ``[columns]`` canonical name = header in the file, ``[defaults]`` canonical name =
    value, ``[parameters]`` name in the file = parameter key."""

    columns: Annotated[
        dict[str, str], BeforeValidator(_as_text), AfterValidator(_columns_only("columns"))
    ] = {}
    defaults: Annotated[
        dict[str, str], BeforeValidator(_as_text), AfterValidator(_columns_only("defaults"))
    ] = {}
    parameters: dict[str, str] = {}


def load_mapping(path: str | Path | None, cli_columns: list[str] | None = None) -> Mapping:
    m = Mapping()
    if path:
        from incident.core.inputs import SourceMap, parse, toml_where

        data = read_toml(path)
        at = toml_where(SourceMap(Path(path).read_text(encoding="utf-8", errors="replace")), str(path))
        parsed = parse(MappingFile, data, where=at, source=str(path))
        m.columns.update(parsed.columns)
        m.defaults.update(parsed.defaults)
        for name, key in parsed.parameters.items():
            m.parameters[name] = standards.resolve_parameter(
                key, where=f"{at(('parameters', name))}, {name}"
            ).key
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


#: the highest round number a row may name (rounds are counted from 1 in an incident)
MAX_ROUND = 9999


class ResultRow(InputModel):
    """One row's cells (after the header mapping and its defaults), parsed.

    The shape of the row is checked here; the parameter, value, unit, method and sample are checked
    against the database by ``entry.check_result`` when the row is added."""

    sample: str = ""
    point: str = Field(default="", validate_default=True)
    round: int | None = Field(default=None, ge=0, le=MAX_ROUND)
    sampled_at: datetime | None = Field(default=None, validate_default=True)
    sampler: str = ""
    sample_type: str = Field(default="", validate_default=True)
    parameter: str = ""
    value: str = ""
    value_high: str = ""
    detected: str = ""
    unit: str = ""
    detection_limit: str = ""
    method: str = ""
    principle: str = ""
    method_kind: str = Field(default="", validate_default=True)
    instrument: str = ""

    @field_validator("method_kind", mode="before")
    @classmethod
    def _kind(cls, value: object) -> object:
        kind = (str(value).strip() or "lab").lower() if isinstance(value, str) else value
        if isinstance(kind, str) and kind not in METHOD_KINDS:
            raise refuse("errors.results.unknown_method_kind", "unknown method kind", kind=repr(kind))
        return kind

    @field_validator("point", mode="after")
    @classmethod
    def _point(cls, value: str, info: ValidationInfo) -> str:
        if not value and not info.data.get("sample"):
            raise refuse("errors.results.empty_7", "is empty")
        return value

    @field_validator("round", mode="before")
    @classmethod
    def _round(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            if not (text.isascii() and text.isdigit()):  # not "²", "１２" or "3.5"
                raise refuse("errors.results.not_round_number", "not a round number", rnd_text=repr(text))
            return int(text)
        return value

    @field_validator("sampled_at", mode="before")
    @classmethod
    def _time(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str):
            if not value.strip():
                value = None
            else:
                try:
                    return _parse_time(value, "")
                except UserError as exc:
                    raise refuse(
                        exc.key or "errors.core.cannot_read_time", exc.message("en"), **exc.params
                    ) from None
        if value is None and not info.data.get("sample"):
            raise refuse("errors.results.empty_8", "is empty")
        return value

    @field_validator("sample_type", mode="after")
    @classmethod
    def _stype(cls, value: str, info: ValidationInfo) -> str:
        stype = value or "normal"
        if not info.data.get("sample") and (stype not in SAMPLE_TYPES or stype == "parallel"):
            raise refuse(
                "errors.results.sample_type_cannot_created", "cannot be created here", stype=repr(stype)
            )
        return stype

    @property
    def kind(self) -> str:
        return self.method_kind or "lab"


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
    progress: Callable[[float], None] | None = None,
) -> ImportReport:
    """Import every row or none (see module docstring). Raises ValidationErrors listing all bad rows.
    ``progress`` is told the fraction of the file's lines read, after each row."""
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
    # results are checked row by row and stored in batches: the same rows, flags and log (_bulk)
    writer = BulkWriter(session, inc.code, actor=actor)
    if "sample" in index:  # the samples the file names, read at once
        i = index["sample"]
        writer.prefetch(
            r[i] for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if len(r) > i
        )
    new_samples: dict[tuple[Any, ...], str] = {}
    seen: dict[tuple[str, str], int] = {}
    by_param: dict[str, int] = defaultdict(int)
    n_rows = n_results = 0
    line_end = 1
    n_lines = max(1, text.count("\n") + (not text.endswith("\n")))
    for row in reader:
        line = line_end + 1
        line_end = reader.line_num
        if progress is not None:
            progress(min(1.0, line_end / n_lines))
        if not any(cell.strip() for cell in row):
            continue
        n_rows += 1

        def cell(key: str, row: list[str] = row) -> str:
            i = index.get(key)
            value = row[i].strip() if i is not None and i < len(row) else ""
            return value or mapping.defaults.get(key, "")

        def col_where(key: str, line: int = line) -> str:
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
        parsed: ResultRow | None
        try:
            parsed = ResultRow.model_validate({key: cell(key) for key in COLUMNS})
        except ValidationError as exc:
            row_problems = refusals(
                exc, where=lambda loc: col_where(str(loc[0]) if loc else "row"), field_name=_no_field
            )
            parsed = None
        sample_code = parsed.sample if parsed is not None else ""
        if parsed is not None and not sample_code:
            try:
                sample_code = _new_sample_for_row(
                    session, inc.code, parsed, new_samples, actor, before_write=writer.flush
                )
            except ValidationErrors as exc:
                row_problems += exc.problems
            except UserError as exc:
                row_problems.append(exc)
        try:
            if parsed is None or row_problems:
                # no sample for the row: still check its other fields, so one pass lists everything
                kind = parsed.kind if parsed is not None else (cell("method_kind") or "lab").lower()
                try:
                    check_result(session, inc, _result_input(cell, mapping, sample="", kind=kind))
                except ValidationErrors as exc:
                    row_problems += [p for p in exc.problems if p.where != "sample"]
                except UserError as exc:
                    row_problems.append(exc)
                raise ValidationErrors(source, row_problems)
            param_text = mapping.parameters.get(parsed.parameter, parsed.parameter)
            raw_input = _result_input(cell, mapping, sample=sample_code, kind=parsed.kind)
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
            existing = writer.current_result(sample_code, key[1])
            if existing is not None:
                raise UserError(
                    "errors.results.sample_already_has_result",
                    where=f"{source}: line {line}",
                    sample_code=sample_code,
                    value=key[1],
                    existing=existing,
                )
            writer.add(raw_input)
            by_param[key[1]] += 1
            n_results += 1
        except ValidationErrors as exc:
            for p in exc.problems:
                problems.append(_at_column(p, col_where))
        except UserError as exc:
            problems.append(_at_column(exc, col_where))
    if not problems:
        try:
            writer.flush()
        except UserError:
            savepoint.rollback()
            raise
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


def _no_field(loc: tuple[Any, ...]) -> str:
    return ""  # the column is named in ``where``


def _result_input(cell: Callable[[str], str], mapping: Mapping, *, sample: str, kind: str) -> ResultInput:
    param_text = cell("parameter")
    return ResultInput(
        sample=sample,
        parameter=mapping.parameters.get(param_text, param_text),
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


def _at_column(p: UserError, col_where: Callable[[str], str]) -> UserError:
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


def _new_sample_for_row(
    session: Session,
    code: str,
    row: ResultRow,
    new_samples: dict[tuple[Any, ...], str],
    actor: str,
    before_write: Callable[[], None] | None = None,
) -> str:
    """The sample a row without a sample ID belongs to: rows with the same point, round, time, type and
    sampler share one (the row was parsed by ResultRow: point and time are there)."""
    assert row.sampled_at is not None
    sampler = row.sampler or ("automatic station" if row.kind == "online" else "")
    key = (row.point.upper(), row.round, row.sampled_at, row.sample_type, sampler)
    if key not in new_samples:
        if before_write is not None:
            before_write()  # the results queued so far go into the log before this sample
        info = create_sample(
            session,
            code,
            NewSample(
                point=row.point,
                round=row.round,
                sampled_at=row.sampled_at,
                sampler=sampler,
                sample_type=row.sample_type,
            ),
            actor=actor,
        )
        new_samples[key] = info.code
    return new_samples[key]
