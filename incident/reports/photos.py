"""Photos kept with an incident: copied into the store's data folder, their SHA-256 committed in the log.

A photo is evidence (HJ 589 §8 lists photos among a report's attachments), so it
is stored under a content-addressed name (``<sha256>.<ext>``) in
``<data dir>/attachments/<incident code>/`` and its row, with the hash, is
committed to in the incident's log: a file swapped on disk no longer matches
the hash the log holds. Only real images (checked by their first bytes, not
their name) of at most :data:`MAX_PHOTO_BYTES` are taken.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from incident.core import log
from incident.core.clock import as_utc, utcnow
from incident.core.errors import UserError
from incident.core.incidents import get_incident, refuse_if_ended
from incident.core.store.tables import Attachment, Incident, row_id

#: the largest photo taken (a phone's full-resolution JPEG is 3–12 MB)
MAX_PHOTO_BYTES = 25 * 1024 * 1024
#: the folder, beside an exported HTML report, that holds its photos
PHOTO_DIR = "photos"


@dataclass(frozen=True)
class PhotoInfo:
    id: int
    number: int  # 1, 2 … in the order attached (the report's photo numbers)
    stored_name: str
    original_name: str
    sha256: str
    size_bytes: int
    caption: str
    point: str | None
    taken_at: datetime | None
    added_at: datetime
    added_by: str
    path: Path  # where the kept copy is

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "file": self.stored_name,
            "original_name": self.original_name,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "caption": self.caption,
            "point": self.point,
            "taken_at": self.taken_at.isoformat() if self.taken_at else None,
            "added_at": self.added_at.isoformat(),
            "added_by": self.added_by,
            "path": str(self.path),
        }


def image_type(head: bytes) -> str | None:
    """The image format from a file's first bytes (its name is not trusted), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tif"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"heif"):
        return "heic"
    return None


def data_dir(session: Session) -> Path:
    """The store's data folder: beside an SQLite file, else the user's data folder."""
    from incident.core.config import default_data_dir

    url = session.get_bind().engine.url  # a Connection's engine, or the Engine itself
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent
    return default_data_dir()


def incident_dir(session: Session, code: str) -> Path:
    return data_dir(session) / "attachments" / code


def _info(session: Session, inc: Incident, row: Attachment, number: int) -> PhotoInfo:
    return PhotoInfo(
        id=row_id(row),
        number=number,
        stored_name=row.stored_name,
        original_name=row.original_name,
        sha256=row.sha256,
        size_bytes=row.size_bytes,
        caption=row.caption,
        point=row.point_number,
        taken_at=as_utc(row.taken_at) if row.taken_at else None,
        added_at=as_utc(row.added_at),
        added_by=row.added_by,
        path=incident_dir(session, inc.code) / row.stored_name,
    )


def list_photos(session: Session, code: str) -> list[PhotoInfo]:
    inc = get_incident(session, code)
    rows = session.exec(
        select(Attachment)
        .where(Attachment.incident_id == inc.id, Attachment.kind == "photo")
        .order_by(col(Attachment.id))
    )
    return [_info(session, inc, row, n) for n, row in enumerate(rows, start=1)]


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def add_photo(
    session: Session,
    code: str,
    file: str | Path,
    *,
    actor: str,
    caption: str = "",
    point: str | None = None,
    taken_at: datetime | None = None,
) -> PhotoInfo:
    """Keep a photo with the incident: copy it under its SHA-256 and commit to it in the log."""
    inc = get_incident(session, code)
    refuse_if_ended(inc, "a photo")
    src = Path(file)
    if not src.is_file():
        raise UserError("errors.photo.no_file", field="file", path=str(src))
    size = src.stat().st_size
    if size > MAX_PHOTO_BYTES:
        raise UserError(
            "errors.photo.too_big",
            field="file",
            name=src.name,
            mb=round(size / 1024 / 1024, 1),
            max_mb=MAX_PHOTO_BYTES // 1024 // 1024,
        )
    with src.open("rb") as fh:
        kind = image_type(fh.read(16))
    if kind is None:
        raise UserError("errors.photo.not_image", field="file", name=src.name)
    if point is not None:
        point = point.strip().upper()
        _check_point(session, inc, point)
    sha = _sha256_of(src)
    same = session.exec(
        select(Attachment).where(Attachment.incident_id == inc.id, Attachment.sha256 == sha)
    ).first()
    if same is not None:
        raise UserError("errors.photo.duplicate", field="file", name=src.name, id=same.id)
    folder = incident_dir(session, inc.code)
    stored = f"{sha}.{kind}"
    target = folder / stored
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            part = target.with_name(stored + ".part")
            shutil.copyfile(src, part)
            part.replace(target)
    except OSError as exc:
        raise UserError("errors.photo.cannot_store", where=str(folder), reason=exc.strerror) from exc
    row = Attachment(
        incident_id=row_id(inc),
        kind="photo",
        stored_name=stored,
        original_name=src.name,
        sha256=sha,
        size_bytes=size,
        caption=caption.strip(),
        point_number=point,
        taken_at=as_utc(taken_at) if taken_at else None,
        added_at=utcnow(),
        added_by=actor,
    )
    log.record(
        session,
        row,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="photo.added",
        incident_id=inc.id,
        summary=f"Photo attached: {src.name} (SHA-256 {sha[:16]}…)"
        + (f", point {point}" if point else "")
        + (f": {row.caption}" if row.caption else ""),
        extra={"sha256": sha, "file": stored, "size_bytes": size},
    )
    photos = list_photos(session, inc.code)
    return next(p for p in photos if p.id == row.id)


def _check_point(session: Session, inc: Incident, point: str) -> None:
    from incident.core.store.tables import PlanRevision, SamplingPoint

    numbers = set(
        session.exec(
            select(SamplingPoint.number)
            .join(PlanRevision, col(PlanRevision.id) == SamplingPoint.revision_id)
            .where(PlanRevision.incident_id == inc.id)
        ).all()
    )
    if point not in numbers:
        raise UserError(
            "errors.photo.unknown_point", field="point", point=point, points=", ".join(sorted(numbers)) or "-"
        )


def check_photo_files(session: Session, code: str) -> list[str]:
    """Photos whose kept file is missing or no longer has the SHA-256 the log holds."""
    out = []
    for p in list_photos(session, code):
        if not p.path.is_file():
            out.append(f"photo #{p.id} ({p.original_name}): file {p.path} is missing")
        elif _sha256_of(p.path) != p.sha256:
            out.append(f"photo #{p.id} ({p.original_name}): file {p.path} does not match its SHA-256")
    return out


def photo_file_problems(session: Session, code: str | None = None) -> list[str]:
    """:func:`check_photo_files` for one incident, or every incident with photos (``incident verify``)."""
    if code is not None:
        return check_photo_files(session, code)
    ids = set(session.exec(select(Attachment.incident_id)).all())
    codes = [c for (i, c) in session.exec(select(Incident.id, Incident.code)).all() if i in ids]
    return [p for c in sorted(codes) for p in check_photo_files(session, c)]


def copy_photos_beside(session: Session, code: str, html_path: Path, html: str) -> list[Path]:
    """Copy the photos an HTML report shows into ``photos/`` beside it (the report works offline)."""
    out = []
    for p in list_photos(session, code):
        if f"{PHOTO_DIR}/{p.stored_name}" not in html or not p.path.is_file():
            continue
        target = html_path.parent / PHOTO_DIR / p.stored_name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p.path, target)
        except OSError as exc:
            raise UserError(
                "errors.photo.cannot_store", where=str(target.parent), reason=exc.strerror
            ) from exc
        out.append(target)
    return out
