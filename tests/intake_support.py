"""Helpers shared by the intake and outbox tests: city settings, webhooks, photos, outbox rows."""

from __future__ import annotations

import struct
import zlib

from sqlmodel import col, select

from engine.city.models import CityConfig, Department
from engine.db import new_session
from engine.outbox.models import OutboxMessage

HOTLINE_URL = "http://hotline.test/12345/status"
HOTLINE_SECRET = "hotline-secret"


def configure(ctx, section: str, values: dict) -> None:
    """Set a city.toml section in the stored city settings and reload the city."""
    with new_session(ctx.db) as session, session.begin():
        config = session.get(CityConfig, 1)
        config.settings = dict(config.settings) | {section: values}
        session.add(config)
    ctx.reload_city()


def hotline_webhook(ctx, url: str = HOTLINE_URL, secret: str = HOTLINE_SECRET) -> None:
    configure(ctx, "hotline", {"webhook": url, "secret": secret})


def department_webhook(ctx, code: str, url: str, secret: str | None = None) -> None:
    with new_session(ctx.db) as session, session.begin():
        department = session.get(Department, code)
        department.webhook_url, department.webhook_secret = url, secret
        session.add(department)
    ctx.reload_city()


def outbox(ctx, destination: str | None = None) -> list[OutboxMessage]:
    with new_session(ctx.db) as session:
        query = select(OutboxMessage).order_by(col(OutboxMessage.id))
        if destination is not None:
            query = query.where(OutboxMessage.destination == destination)
        return list(session.exec(query))


def png(seed: int = 0, size: int = 2) -> bytes:
    """A small valid PNG; ``seed`` varies the pixels so each seed hashes differently."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + bytes([seed % 256, 0, 0]) * size for _ in range(size))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40
