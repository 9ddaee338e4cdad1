"""Review routes: what a resolved case still needs before it closes (核查 / 回访)."""

from __future__ import annotations

from fastapi import APIRouter

from engine.cases import queries
from engine.review.status import ReviewStatus, review_status
from web.deps import Ctx, CurrentPrincipal, DbSession, RowId

router = APIRouter(prefix="/api/v1", tags=["review"])


@router.get("/cases/{case_id}/review", response_model=ReviewStatus)
def get_case_review(
    case_id: RowId, ctx: Ctx, session: DbSession, principal: CurrentPrincipal
) -> ReviewStatus:
    """The checks the case needs (``required``), those settled in the current round (a
    rework starts a new one), what is ``missing`` before it closes, and every check made:
    verify results with their photo count, callbacks with satisfaction, resolution and
    fault."""
    case = queries.get_visible(session, principal, case_id, ctx.city)
    return review_status(session, case, ctx.city)
