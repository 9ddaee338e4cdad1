"""Time limits in words (``4wh`` → "4个工作小时", ``1wd`` → "1个工作日"): the one place
pages turn a duration into text. ``engine/durations.py`` parses them."""

from __future__ import annotations

from engine.durations import parse_duration

# unit -> (Chinese, English singular, English plural)
_UNIT_WORDS = {
    "m": ("{n}分钟", "{n} minute", "{n} minutes"),
    "h": ("{n}小时", "{n} hour", "{n} hours"),
    "d": ("{n}天", "{n} day", "{n} days"),
    "wh": ("{n}个工作小时", "{n} working hour", "{n} working hours"),
    "wd": ("{n}个工作日", "{n} working day", "{n} working days"),
}
# What a handler may ask for as an extension (延期), shortest first.
EXTENSION_CHOICES = ("2wh", "4wh", "1wd", "2wd", "3wd", "5wd", "10wd", "15wd")


def duration_words(text: str | None, lang: str = "zh") -> str:
    """``"1wd"`` → ``"1个工作日"`` (``"1 working day"`` in English); an unreadable value is
    shown as it is, an empty one as a dash."""
    if not text:
        return "—"
    try:
        duration = parse_duration(text)
    except ValueError:
        return str(text)
    zh, one, many = _UNIT_WORDS[duration.unit]
    if lang == "en":
        return (one if duration.amount == 1 else many).format(n=duration.amount)
    return zh.format(n=duration.amount)


def seconds_words(seconds: float, lang: str = "zh") -> str:
    """A span of time for a person: "2天3小时", "3小时20分钟", "15分钟" (at least 1 minute)."""
    minutes = max(1, int(seconds // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (mins, "m")]
    shown = [(n, u) for n, u in parts if n][:2]
    return (" " if lang == "en" else "").join(duration_words(f"{n}{u}", lang) for n, u in shown)
