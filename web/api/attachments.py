"""Photo uploads: POST one image (JPEG, PNG or WebP), get a reference for ``photos`` fields.

A photo is shown to its uploader until it is attached, then to whoever may see one of the
cases it is attached to (engine.attachment_access); anyone else gets a 404.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from engine.attachment_access import may_see, record_upload
from engine.db import new_session
from engine.errors import InvalidInput, NotFound, TooLarge
from engine.users.models import Principal
from web.context import AppContext
from web.deps import Ctx, CurrentPrincipal

router = APIRouter(prefix="/api/v1/attachments", tags=["attachments"])

MULTIPART_OVERHEAD = 16 * 1024  # boundaries and part headers around the file


class AttachmentOut(BaseModel):
    ref: str  # use it in a photos field
    sha256: str
    content_type: str
    size: int
    url: str


@router.post("", status_code=201, response_model=AttachmentOut)
async def upload(request: Request, ctx: Ctx, principal: CurrentPrincipal) -> AttachmentOut:
    """multipart/form-data with one part ``file``; at most GRIDFLOW_MAX_ATTACHMENT_BYTES."""
    limit = ctx.settings.max_attachment_bytes
    declared = request.headers.get("content-length")
    if (
        declared
        and declared.isascii()
        and declared.isdigit()
        and int(declared) > limit + MULTIPART_OVERHEAD
    ):
        raise TooLarge(f"file: at most {limit} bytes", {"limit": limit})
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidInput("file", "send multipart/form-data with a 'file' part")
    async with request.form(max_files=1, max_fields=5) as form:
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise InvalidInput("file", "required: one image file")
        data = await part.read(limit + 1)
    store = ctx.channels.attachments
    saved = await run_in_threadpool(store.save, data)
    await run_in_threadpool(remember_upload, ctx, principal, saved.ref)
    return AttachmentOut(
        ref=saved.ref,
        sha256=saved.sha256,
        content_type=saved.content_type,
        size=saved.size,
        url=f"/api/v1/attachments/{saved.ref}",
    )


def remember_upload(ctx: AppContext, principal: Principal, ref: str) -> None:
    with new_session(ctx.db) as session, session.begin():
        record_upload(session, principal, ref, ctx.clock.now())


def visible_photo(ctx: AppContext, principal: Principal, ref: str) -> tuple[Path, str] | None:
    """The file and content type of ``ref`` if ``principal`` may see it, else None (whether
    it exists or not: the answer is the same)."""
    found = ctx.channels.attachments.locate(ref)
    if found is None:
        return None
    with new_session(ctx.db) as session:
        return found if may_see(session, principal, ref, ctx.city) else None


@router.get("/{ref}")
def download(ref: str, ctx: Ctx, principal: CurrentPrincipal) -> FileResponse:
    found = visible_photo(ctx, principal, ref)
    if found is None:
        raise NotFound(f"attachment {ref!r} not found")
    path, content_type = found
    return FileResponse(path, media_type=content_type)
