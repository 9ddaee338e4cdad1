"""Review (核查 / 回访): which checks a resolved case needs before it closes, their results,
and the closure or rework they lead to (see :mod:`engine.review.hooks`)."""

from engine.review.requirements import Requirements, ReviewSettings, requirements

__all__ = ["Requirements", "ReviewSettings", "requirements"]
