"""``/yomikai status``: the group's state on one screen."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select

from bot.context import Tx
from bot.group_setup import settings_lines
from bot.messages import Notice, Reply
from bot.schedule import meeting_for
from bot.sessions import current_session
from bot.views import agenda
from storage.models import Candidate, Member, Vote
from storage.queries import open_round


def status(tx: Tx, text: str) -> Reply:
    group = tx.bound_group
    lines = list(settings_lines(group, tx.tr))
    round_ = open_round(tx.session, group.id or 0)
    if round_ is None:
        lines.append(tx.tr("status.no_round"))
    else:
        count = tx.session.exec(
            select(func.count()).select_from(Candidate).where(Candidate.round_id == round_.id)
        ).one()
        voters = tx.session.exec(
            select(func.count(func.distinct(Vote.member_id))).where(Vote.round_id == round_.id)
        ).one()
        lines.append(tx.tr("status.round", candidates=count, voters=voters))
    reads = meeting_for(tx.session, group, tx.now).astimezone(tx.zone)
    lines.append(tx.tr("status.closed_now", date=f"{reads:%Y-%m-%d %H:%M}"))
    reading = current_session(tx, required=False)
    if reading is None:
        lines.append(tx.tr("session.none_yet"))
    else:
        plan = agenda(tx.session, group, reading)
        lines.append(
            tx.tr(
                "status.session",
                date=plan.meets_at.strftime("%Y-%m-%d %H:%M"),
                finished=sum(s.card_finished for s in plan.slots),
                total=len(plan.slots),
                open=sum(s.presenter is None for s in plan.slots),
            )
        )
    in_rotation = tx.session.exec(
        select(func.count())
        .select_from(Member)
        .where(Member.group_id == group.id, col(Member.in_rotation).is_(True))
    ).one()
    lines.append(tx.tr("status.rotation", count=in_rotation))
    title = tx.tr("status.title")
    return Reply.tell(Notice(title, title=title, lines=tuple(lines)))
