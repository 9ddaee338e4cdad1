"""What the pure ASGI middlewares share: editing a response's headers as it starts."""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import Message, Send

Headers = list[tuple[bytes, bytes]]


def editing_headers(send: Send, edit: Callable[[Headers], Headers]) -> Send:
    """``send`` with ``edit`` applied to the headers of the response's start message (so it
    works for streamed responses too, whose body comes later)."""

    async def send_edited(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = edit(list(message.get("headers", [])))
        await send(message)

    return send_edited
