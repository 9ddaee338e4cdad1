"""Wiring for the intake channels and outbound delivery: their case hooks, the video alert
configuration, the photo store, and the outbox delivery loop the server runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import cached_property
from typing import TYPE_CHECKING

import httpx

from adapters.video import VideoIntake, check_config, load_video_config
from adapters.webhook import WebhookDelivery, run_forever
from engine.attachment_access import AttachmentHook
from engine.attachments import AttachmentStore
from engine.cases.hooks import CaseHook
from engine.intake.alerts import AlertWindowHook
from engine.intake.duplicates import DuplicateHook
from engine.outbox.hooks import OutboxHook

if TYPE_CHECKING:
    from web.context import AppContext

VIDEO_FILE = "video.toml"
log = logging.getLogger("gridflow.channels")


def channel_hooks() -> list[CaseHook]:
    """Duplicate flags, alert-storm windows and outbox messages, in every case transaction."""
    return [AttachmentHook(), DuplicateHook(), AlertWindowHook(), OutboxHook()]


class Channels:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    @cached_property
    def video(self) -> VideoIntake:
        config = load_video_config(self.ctx.settings.city_dir / VIDEO_FILE)
        city = self.ctx.city
        check_config(config, city.units, city.categories)
        return VideoIntake(config)

    @property
    def attachments(self) -> AttachmentStore:
        settings = self.ctx.settings
        return AttachmentStore(settings.attachments_dir, settings.max_attachment_bytes)

    def delivery(self, client: httpx.AsyncClient) -> WebhookDelivery:
        return WebhookDelivery(self.ctx.db, lambda: self.ctx.city, client)

    async def start(self) -> None:
        try:  # a broken video.toml is reported at start-up, not at the first alert
            self.video  # noqa: B018
        except (ValueError, LookupError) as exc:
            log.error("video alerts are unavailable: %s", exc)
        interval = self.ctx.settings.outbox_poll_seconds
        if interval <= 0 or self._task is not None:
            return
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(10.0), follow_redirects=False)
        loop = run_forever(self.delivery(self._client), self.ctx.clock, interval)
        self._task = asyncio.create_task(loop, name="gridflow-outbox")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
