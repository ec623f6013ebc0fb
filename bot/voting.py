"""Nominations, voting rounds and approval voting: ``/nominate``, ``/vote``, ``/candidates``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, delete, select

from bot import args
from bot.context import Invocation, Services, Tx
from bot.errors import UserError
from bot.messages import Notice, Reply
from bot.paper_ids import PaperIdError, parse_paper_id
from bot.views import candidate_list, tallies
from storage.models import Candidate, Nomination, Paper, PoolEntry, Round, Vote
from storage.queries import (
    Presentation,
    chosen_paper_ids,
    insert_ignore,
    nominated_again,
    nomination_counts,
    open_round,
    planned_paper_ids,
    presented_papers,
    put_back,
)
from storage.types import as_utc

MAX_REASON = 500


@dataclass(frozen=True)
class Ballot:
    """What decides a candidate's place when a round closes."""

    candidate_id: int
    paper_id: int
    number: int
    votes: int
    nominations: int
    trending_score: float
    first_nominated: datetime | None


def ranked(ballots: list[Ballot]) -> list[Ballot]:
    """Most votes first; ties by nominations, then trending score, then earliest nomination."""

    def key(b: Ballot) -> tuple[int, int, float, float, int]:
        first = b.first_nominated.timestamp() if b.first_nominated else float("inf")
        return (-b.votes, -b.nominations, -b.trending_score, first, b.number)

    return sorted(ballots, key=key)


# --- /nominate -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedNomination:
    paper_id: int
    reason: str


def split_nomination(text: str) -> tuple[str, str]:
    """``2204.06974 "great paper"`` → the paper and the reason (quotes optional, apostrophes ok)."""
    if len(text) > args.MAX_ARGUMENT_TEXT:
        raise UserError("args.too_long", limit=args.MAX_ARGUMENT_TEXT)
    paper, _, reason = text.strip().partition(" ")
    if not paper:
        raise UserError("nominate.missing")
    reason = reason.strip()
    if len(reason) >= 2 and reason[0] == reason[-1] and reason[0] in "\"'“”":
        reason = reason[1:-1].strip()
    return paper, reason[:MAX_REASON]


async def prepare_nomination(services: Services, inv: Invocation, now: datetime) -> object:
    """Outside any transaction: parse the id and make sure arXiv's metadata is stored."""
    word, reason = split_nomination(inv.text)
    try:
        paper_id = parse_paper_id(word)
    except PaperIdError as error:
        raise UserError("nominate.bad_id", value=args.shorten(word), reason=error.reason) from None
    known = await services.catalog.ensure([paper_id.canonical], now)
    if paper_id.canonical not in known:
        raise UserError("nominate.unknown_paper", arxiv_id=paper_id.canonical, show_usage=False)
    return PreparedNomination(known[paper_id.canonical], reason)


def nominate(tx: Tx, text: str) -> Reply:
    """Nominate a paper, or support another member's nomination of it.

    A paper on an upcoming session's agenda is refused. A paper already presented here is
    flagged ("already presented on … by …"); its nominations from before it was read are
    spent (removed), and it is offered on a ballot again only once an organizer nominates it:
    a member's nomination is kept, but waits for that."""
    group, me = tx.bound_group, tx.me
    prepared: PreparedNomination = tx.prepared
    paper = tx.session.get(Paper, prepared.paper_id)
    assert group.id is not None and me.id is not None and paper is not None
    if prepared.paper_id in planned_paper_ids(tx.session, group.id, tx.now):
        raise UserError("nominate.already_chosen", title=paper.title, show_usage=False)
    presented = presented_papers(tx.session, group.id, tx.now, [prepared.paper_id]).get(
        prepared.paper_id
    )
    if presented is not None:
        tx.session.execute(  # the nominations that brought it to its session are spent
            delete(Nomination).where(
                col(Nomination.group_id) == group.id,
                col(Nomination.paper_id) == prepared.paper_id,
                col(Nomination.created_at) <= presented.chosen_at,
            )
        )
    added = insert_ignore(
        tx.session,
        Nomination,
        {
            "group_id": group.id,
            "paper_id": prepared.paper_id,
            "member_id": me.id,
            "reason": prepared.reason,
            "created_at": tx.now,
        },
        ("group_id", "paper_id", "member_id"),
    )
    if added is None:
        return Reply.tell(Notice(tx.tr("nominate.already_yours", title=paper.title)))
    count = nomination_counts(tx.session, group.id).get(prepared.paper_id, 0)
    key = "nominate.added" if count == 1 else "nominate.supported"
    lines = [tx.tr(key, name=me.display_name, title=paper.title, count=count)]
    offered = True
    if presented is not None:
        if me.is_organizer:
            then = "nominate.presented_back"
        elif prepared.paper_id in put_back(tx.session, group.id, {paper.id or 0: presented}):
            then = "nominate.presented_offered"
        else:
            then, offered = "nominate.presented_kept", False
        lines.append(tx.tr(then, when=presented_on(tx, presented)))
    if prepared.reason:
        lines.append(tx.tr("nominate.reason", reason=prepared.reason))
    round_ = open_round(tx.session, group.id)
    if round_ is not None and offered:
        number = add_candidate(tx, round_, prepared.paper_id, 0.0)
        lines.append(tx.tr("nominate.on_ballot", number=number))
    elif offered:
        lines.append(tx.tr("nominate.in_pool"))
    return Reply(
        public=(Notice("\n".join(lines)),),
        round_changed=round_.id if round_ is not None and offered else None,
    )


def presented_on(tx: Tx, presented: Presentation) -> str:
    """``Already presented here on 2026-05-11 by alice.`` (the date in the group's zone)."""
    day = f"{presented.meets_at.astimezone(tx.zone):%Y-%m-%d}"
    if presented.presenter is None:
        return tx.tr("nominate.presented_open", date=day)
    return tx.tr("nominate.presented", date=day, name=presented.presenter.display_name)


def add_candidate(tx: Tx, round_: Round, paper_id: int, score: float) -> int:
    """The paper's number on the ballot, adding it at the end if it is not there yet."""
    existing = tx.session.exec(
        select(Candidate).where(Candidate.round_id == round_.id, Candidate.paper_id == paper_id)
    ).first()
    if existing is not None:
        return existing.number
    highest = tx.session.exec(
        select(func.max(Candidate.number)).where(Candidate.round_id == round_.id)
    ).one()
    number = (highest or 0) + 1
    candidate = Candidate(
        round_id=round_.id or 0, number=number, paper_id=paper_id, trending_score=score
    )
    tx.session.add(candidate)
    tx.session.flush()
    return number


# --- rounds ----------------------------------------------------------------------------------


TRENDING_FRESH = timedelta(days=7)
"""Trending papers found by polls older than this no longer reach a ballot."""


def left_out(tx: Tx) -> set[int]:
    """Papers no ballot offers: on an upcoming agenda, or presented already and not nominated
    again by an organizer since."""
    group_id = tx.bound_group.id or 0
    presented = presented_papers(tx.session, group_id, tx.now)
    back = put_back(tx.session, group_id, presented)
    return planned_paper_ids(tx.session, group_id, tx.now) | (set(presented) - back)


def pool(tx: Tx) -> list[tuple[int, float]]:
    """The next round's ballot as (paper, trending score): every nominated paper, most supported
    first, then the top-scoring fresh trending papers up to the group's candidates per round.
    Papers already chosen are left out (``left_out``: a presented paper an organizer nominated
    again is offered)."""
    group = tx.bound_group
    chosen = chosen_paper_ids(tx.session, group.id or 0)
    nominated = tx.session.exec(
        select(Nomination.paper_id)
        .where(Nomination.group_id == group.id)
        .group_by(col(Nomination.paper_id))
        .order_by(func.count().desc(), func.min(Nomination.created_at))
    ).all()
    scores = dict(
        tx.session.exec(
            select(PoolEntry.paper_id, PoolEntry.score).where(PoolEntry.group_id == group.id)
        ).all()
    )
    ballot = [(paper_id, scores.get(paper_id, 0.0)) for paper_id in nominated]
    trending = tx.session.exec(
        select(PoolEntry.paper_id, PoolEntry.score)
        .where(PoolEntry.group_id == group.id, PoolEntry.added_at > tx.now - TRENDING_FRESH)
        .order_by(col(PoolEntry.score).desc(), col(PoolEntry.id))
    ).all()
    taken = set(nominated) | chosen
    fresh = [(paper_id, score) for paper_id, score in trending if paper_id not in taken]
    ballot += fresh[: group.candidates_per_round]
    skipped = left_out(tx)
    return [(paper_id, score) for paper_id, score in ballot if paper_id not in skipped]


def open_voting(tx: Tx, text: str) -> Reply:
    tx.require_organizer()
    return open_round_now(tx)


def open_round_now(tx: Tx) -> Reply:
    """Open a round from the pool (the ``open`` job and ``/yomikai open`` both land here)."""
    group = tx.bound_group
    if open_round(tx.session, group.id or 0) is not None:
        raise UserError("round.already_open", show_usage=False)
    papers = pool(tx)
    if not papers:
        raise UserError("round.empty_pool", show_usage=False)
    round_ = Round(group_id=group.id or 0, opened_at=tx.now)
    tx.session.add(round_)
    tx.session.flush()
    for paper_id, score in papers:
        add_candidate(tx, round_, paper_id, score)
    ballot = candidate_list(tx.session, group, round_)
    return Reply.announce(ballot)


def current_round(tx: Tx) -> Round:
    round_ = open_round(tx.session, tx.bound_group.id or 0)
    if round_ is None:
        raise UserError("round.none_open", show_usage=False)
    return round_


def candidates(tx: Tx, text: str) -> Reply:
    round_ = current_round(tx)
    ballot = candidate_list(tx.session, tx.bound_group, round_)
    read = read_before(tx, round_)
    return Reply.tell(ballot, read) if read is not None else Reply.tell(ballot)


def read_before(tx: Tx, round_: Round) -> Notice | None:
    """Under ``/candidates``, when there are any: the candidates presented here before (an
    organizer put them back), and presented papers nominated again that wait for one."""
    group_id = tx.bound_group.id or 0
    presented = presented_papers(tx.session, group_id, tx.now)
    if not presented:
        return None
    again = nominated_again(tx.session, group_id, presented)
    on_ballot = dict(
        tx.session.exec(
            select(Candidate.paper_id, Candidate.number).where(Candidate.round_id == round_.id)
        ).all()
    )
    lines = []
    for paper_id, presentation in presented.items():
        paper = tx.session.get(Paper, paper_id)
        assert paper is not None
        when = presented_on(tx, presentation)
        if paper_id in on_ballot:
            number = on_ballot[paper_id]
            lines.append(tx.tr("round.read_back", number=number, title=paper.title, when=when))
        elif paper_id in again and not again[paper_id]:
            lines.append(
                tx.tr("round.read_waiting", title=paper.title, when=when, arxiv_id=paper.arxiv_id)
            )
    if not lines:
        return None
    title = tx.tr("round.read_title")
    return Notice(title, title=title, lines=tuple(lines))


def vote(tx: Tx, text: str) -> Reply:
    """``/vote 2`` toggles a vote; ``/vote 1 3 4`` toggles each (all or, on a mistake, none)."""
    words = args.words(text)
    numbers = list(dict.fromkeys(args.number(word) for word in words)) or [args.number(None)]
    round_ = current_round(tx)
    by_number = {
        c.number: c
        for c in tx.session.exec(select(Candidate).where(Candidate.round_id == round_.id))
    }
    for number in numbers:
        if number not in by_number:
            raise UserError(
                "vote.no_such_candidate", number=args.shorten(str(number)), count=len(by_number)
            )
    said = "\n".join(_toggle(tx, round_, by_number[number]) for number in numbers)
    return Reply(private=(Notice(said),), round_changed=round_.id)


def vote_by_id(round_id: int, candidate_id: int, tx: Tx, _text: str) -> Reply:
    """A click on a vote button, which names the round and candidate it was drawn for."""
    round_ = tx.session.get(Round, round_id)
    candidate = tx.session.get(Candidate, candidate_id)
    if round_ is None or round_.group_id != tx.bound_group.id:
        raise UserError("vote.round_closed", show_usage=False)
    if round_.closed_at is not None:
        raise UserError("vote.round_closed", show_usage=False)
    if candidate is None or candidate.round_id != round_id:
        raise UserError("vote.round_closed", show_usage=False)
    return toggle_vote(tx, round_, candidate)


def toggle_vote(tx: Tx, round_: Round, candidate: Candidate) -> Reply:
    return Reply(private=(Notice(_toggle(tx, round_, candidate)),), round_changed=round_.id)


def _toggle(tx: Tx, round_: Round, candidate: Candidate) -> str:
    """Add the member's vote for ``candidate``, or take it back; what to tell them."""
    me = tx.me
    paper = tx.session.get(Paper, candidate.paper_id)
    assert paper is not None and round_.id is not None and candidate.id is not None
    added = insert_ignore(
        tx.session,
        Vote,
        {
            "round_id": round_.id,
            "candidate_id": candidate.id,
            "member_id": me.id,
            "created_at": tx.now,
        },
        ("candidate_id", "member_id"),
    )
    if added is None:
        tx.session.execute(
            delete(Vote).where(col(Vote.candidate_id) == candidate.id, col(Vote.member_id) == me.id)
        )
    votes = tallies(tx.session, round_.id).get(candidate.id, 0)
    key = "vote.added" if added is not None else "vote.removed"
    return tx.tr(key, number=candidate.number, title=paper.title, votes=votes)


def ballots(tx: Tx, round_: Round) -> list[Ballot]:
    group = tx.bound_group
    votes = tallies(tx.session, round_.id or 0)
    counts = nomination_counts(tx.session, group.id or 0)
    firsts = dict(
        tx.session.exec(
            select(Nomination.paper_id, func.min(Nomination.created_at))
            .where(Nomination.group_id == group.id)
            .group_by(col(Nomination.paper_id))
        ).all()
    )
    rows = tx.session.exec(select(Candidate).where(Candidate.round_id == round_.id))
    return [
        Ballot(
            candidate_id=c.id or 0,
            paper_id=c.paper_id,
            number=c.number,
            votes=votes.get(c.id or 0, 0),
            nominations=counts.get(c.paper_id, 0),
            trending_score=c.trending_score,
            first_nominated=as_utc(firsts.get(c.paper_id)),
        )
        for c in rows
    ]
