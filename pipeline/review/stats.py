"""Agreement between the machine and its reviewers: the product's live precision and recall.

Only calls a reviewer has finished (status other than 待复核) count. On those,
per fact: the machine agreed when no reviewer corrected the value (or corrected
it to the same value). Per flag: a raised flag that was not dismissed counts as
confirmed (a reviewer who closes a call accepts the flags left standing), a
dismissed one is a false alarm, a flag a reviewer added is a miss:
precision = confirmed / raised, recall = confirmed / (confirmed + added).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.labels import FACTS, FLAG_CODES
from pipeline.review.nights import Night, load_summaries
from pipeline.review.store import DEFAULT_STATUS, current_reviews


@dataclass
class FactAgreement:
    reviewed: int = 0
    agreed: int = 0

    @property
    def agreement(self) -> float | None:
        return round(self.agreed / self.reviewed, 4) if self.reviewed else None


@dataclass
class FlagAgreement:
    confirmed: int = 0
    dismissed: int = 0
    added: int = 0

    @property
    def precision(self) -> float | None:
        raised = self.confirmed + self.dismissed
        return round(self.confirmed / raised, 4) if raised else None

    @property
    def recall(self) -> float | None:
        real = self.confirmed + self.added
        return round(self.confirmed / real, 4) if real else None


@dataclass
class Agreement:
    calls_reviewed: int = 0
    facts: dict[str, FactAgreement] = field(default_factory=lambda: {f: FactAgreement() for f in FACTS})
    flags: dict[str, FlagAgreement] = field(default_factory=lambda: {c: FlagAgreement() for c in FLAG_CODES})

    def add(self, other: "Agreement") -> None:
        self.calls_reviewed += other.calls_reviewed
        for f, a in other.facts.items():
            self.facts[f].reviewed += a.reviewed
            self.facts[f].agreed += a.agreed
        for c, a in other.flags.items():
            self.flags[c].confirmed += a.confirmed
            self.flags[c].dismissed += a.dismissed
            self.flags[c].added += a.added

    @property
    def flags_total(self) -> FlagAgreement:
        total = FlagAgreement()
        for a in self.flags.values():
            total.confirmed += a.confirmed
            total.dismissed += a.dismissed
            total.added += a.added
        return total

    def to_json(self) -> dict:
        total = self.flags_total
        return {
            "calls_reviewed": self.calls_reviewed,
            "facts": {f: {"reviewed": a.reviewed, "agreed": a.agreed, "agreement": a.agreement} for f, a in self.facts.items()},
            "flags": {c: {"confirmed": a.confirmed, "dismissed": a.dismissed, "added": a.added,
                          "precision": a.precision, "recall": a.recall}
                      for c, a in self.flags.items() if a.confirmed or a.dismissed or a.added},
            "flags_all": {"confirmed": total.confirmed, "dismissed": total.dismissed, "added": total.added,
                          "precision": total.precision, "recall": total.recall},
        }


def agreement(conn, nights: dict[str, Night]) -> tuple[dict[str, Agreement], Agreement]:
    """(per night, overall)."""
    reviews = current_reviews(conn)
    per_night: dict[str, Agreement] = {}
    overall = Agreement()
    for name, night in nights.items():
        stats = Agreement()
        for call_id, summary in load_summaries(night).items():
            review = reviews.get((name, call_id))
            if review is None or review.status == DEFAULT_STATUS or summary.get("status") == "failed":
                continue
            stats.calls_reviewed += 1
            facts = summary.get("facts") or {}
            for fact in FACTS:
                machine = (facts.get(fact) or {}).get("value")
                stats.facts[fact].reviewed += 1
                corrected = (review.facts or {}).get(fact)
                stats.facts[fact].agreed += int(corrected is None or corrected.after == machine)
            raised = {f.get("code") for f in summary.get("flags") or [] if isinstance(f, dict)}
            for code in raised & set(FLAG_CODES):
                verdict = (review.flags or {}).get(code)
                if verdict is not None and verdict.after == "dismissed":
                    stats.flags[code].dismissed += 1
                else:
                    stats.flags[code].confirmed += 1
            for code, verdict in (review.flags or {}).items():
                if verdict.after == "added" and code not in raised and code in stats.flags:
                    stats.flags[code].added += 1
        per_night[name] = stats
        overall.add(stats)
    return per_night, overall


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def format_stats(per_night: dict[str, Agreement], overall: Agreement) -> str:
    """A plain table for the terminal: facts then flags, one column per night and overall."""
    names = list(per_night) + ["overall"]
    cols = [per_night[n] for n in per_night] + [overall]
    width = max(10, *(len(n) for n in names))
    lines = [f"{'calls reviewed':<26}" + "".join(f"{c.calls_reviewed:>{width + 2}}" for c in cols),
             f"{'fact agreement':<26}" + "".join(f"{n:>{width + 2}}" for n in names)]
    for fact in FACTS:
        lines.append(f"  {fact:<24}" + "".join(f"{_pct(c.facts[fact].agreement):>{width + 2}}" for c in cols))
    lines.append(f"{'flag precision / recall':<26}")
    for code in FLAG_CODES:
        if any(c.flags[code].confirmed or c.flags[code].dismissed or c.flags[code].added for c in cols):
            lines.append(f"  {code:<24}" + "".join(f"{_pct(c.flags[code].precision) + ' / ' + _pct(c.flags[code].recall):>{width + 2}}" for c in cols))
    lines.append(f"  {'all flags':<24}" + "".join(f"{_pct(c.flags_total.precision) + ' / ' + _pct(c.flags_total.recall):>{width + 2}}" for c in cols))
    return "\n".join(lines)
