"""The domain lexicon and rule files in ``models/``, loaded once per process.

Rules are data (``patterns.jsonl``: id, label, pattern, scope, context, notes);
the terms (``lexicon.json``) feed the Whisper prompt, hotwords, the jieba user
dictionary and the pinyin-based correction of misheard words.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pipeline.errors import ConfigError

PACKAGE_MODELS_DIR = Path(__file__).resolve().parents[2] / "models"


def models_dir() -> Path:
    """``HUIFANG_MODELS_DIR`` or the repository's ``models/`` folder."""
    return Path(os.environ.get("HUIFANG_MODELS_DIR", PACKAGE_MODELS_DIR))


@dataclass(frozen=True)
class Rule:
    id: str
    label: str  # "<fact>:<value>", "signal:<FLAG>", "agent:<behaviour>", "topic:<fact>", "outcome:..", "role:agent"
    pattern: re.Pattern[str]
    scope: str  # customer | agent | any
    context: re.Pattern[str] | None  # must occur in the utterance or the agent turn before it
    negatable: bool
    weight: float
    notes: str
    # A match is dropped when this occurs anywhere in the same utterance
    # (亏了 after 买了点基金 is a loss on funds, not a declining business).
    unless: re.Pattern[str] | None = None
    # Characters one of which every match starts with (None: could not be worked out);
    # a rule whose start characters are absent from an utterance is not run on it.
    first_chars: frozenset[str] | None = None

    @property
    def kind(self) -> str:
        return self.label.split(":", 1)[0]

    @property
    def value(self) -> str:
        return self.label.split(":", 1)[1]


@dataclass(frozen=True, eq=False)  # hashed by identity: one loaded lexicon, one cache entry
class Lexicon:
    prompt: str
    terms: dict[str, tuple[str, ...]]
    carrier_messages: tuple[dict, ...]
    carrier_intro: dict
    never_correct: frozenset[str]
    rules: tuple[Rule, ...]
    collocations: dict[str, tuple[str, ...]]
    # The domain's spoken words with their counts in the training texts
    # (``vocabulary.txt``): homophone correction's candidates and domain model.
    vocabulary: dict[str, int] = field(default_factory=dict)
    # Fixed phrases of the domain that PhraseCorrector restores (将贷录音 → 将被录音).
    phrases: tuple[str, ...] = ()
    # Per term group, the words by which talk names its topic (资金, 用途 for misuse): the call's
    # evidence alone lets a sound become only a term of a group so named.
    topic_words: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def all_terms(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for group in self.terms.values():
            for term in group:
                seen.setdefault(term, None)
        return tuple(seen)

    def rules_of_kind(self, kind: str) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.kind == kind)


def _compile(rule_id: str, pattern: str, path: Path) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"{path}: rule {rule_id}: invalid pattern: {exc}") from exc


_SLOT = re.compile(r"%([a-z_]+)%")


def load_slot_vocabulary(directory: Path) -> dict[str, tuple[str, ...]]:
    """``vocab/<name>.txt`` beside the rules: one word a line (``#`` comments), the fillers of ``%name%`` in patterns.

    Why: the things borrowers buy, the machines they run and the places they
    spend on are open-ended lists; as data they grow without touching the rules.
    """
    slots: dict[str, tuple[str, ...]] = {}
    folder = Path(directory) / "vocab"
    if not folder.is_dir():
        return slots
    for path in sorted(folder.glob("*.txt")):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read slot vocabulary {path}: {exc}") from exc
        words = {w for line in lines for w in line.split("#", 1)[0].split()}
        slots[path.stem] = tuple(sorted(words, key=lambda w: (-len(w), w)))
    return slots


def expand_slots(pattern: str, slots: dict[str, tuple[str, ...]], where: str) -> str:
    """Replace each ``%name%`` with a non-capturing alternation of that vocabulary (longest words first)."""
    def one(found: re.Match[str]) -> str:
        name = found.group(1)
        if name not in slots:
            raise ConfigError(f"{where}: unknown slot %{name}% (no vocab/{name}.txt)")
        return _trie_pattern(slots[name])

    return _SLOT.sub(one, pattern)


def _trie_pattern(words: tuple[str, ...]) -> str:
    """One regex for many words, factored by common prefix (a trie), longest alternatives first.

    Why: Python's re tries a flat alternation of hundreds of words one by one
    at every position; a trie rejects a position after one or two characters.
    """
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return "(?:" + build(trie) + ")"


def first_chars(pattern: str) -> frozenset[str] | None:
    """The characters a match of ``pattern`` can start with, or None when any character could (or it can be empty)."""
    try:
        import re._parser as sre_parse  # Python 3.11+
    except ImportError:  # pragma: no cover
        import sre_parse  # type: ignore[no-redef]
    import re._constants as c

    def of_seq(items) -> tuple[set[str] | None, bool]:
        """(start characters, can be empty) of a sequence of parsed items."""
        chars: set[str] = set()
        for op, av in items:
            got, nullable = of_item(op, av)
            if got is None:
                return None, False
            chars |= got
            if not nullable:
                return chars, False
        return chars, True

    def of_item(op, av) -> tuple[set[str] | None, bool]:
        if op is c.LITERAL:
            return {chr(av)}, False
        if op is c.IN:
            chars = set()
            for iop, iav in av:
                if iop is c.LITERAL:
                    chars.add(chr(iav))
                elif iop is c.RANGE and iav[1] - iav[0] < 64:
                    chars |= {chr(x) for x in range(iav[0], iav[1] + 1)}
                else:
                    return None, False
            return chars, False
        if op is c.BRANCH:
            chars, nullable = set(), False
            for branch in av[1]:
                got, empty = of_seq(branch)
                if got is None:
                    return None, False
                chars |= got
                nullable = nullable or empty
            return chars, nullable
        if op is c.SUBPATTERN:
            return of_seq(av[-1])
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            got, empty = of_seq(av[2])
            return got, empty or av[0] == 0
        if op in (c.ASSERT, c.ASSERT_NOT, c.AT):
            return set(), True  # zero-width: the match starts with what follows
        return None, False

    try:
        chars, nullable = of_seq(sre_parse.parse(pattern))
    except Exception:  # noqa: BLE001 - an unusual construct only means no prefilter
        return None
    return None if chars is None or nullable or not chars else frozenset(chars)


def load_rules(path: Path, slots: dict[str, tuple[str, ...]] | None = None) -> tuple[Rule, ...]:
    if slots is None:
        slots = load_slot_vocabulary(Path(path).parent)
    rules = []
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                expanded = expand_slots(raw["pattern"], slots, f"{path}:{line_no}")
                rule = Rule(
                    id=raw["id"],
                    label=raw["label"],
                    pattern=_compile(raw["id"], expanded, path),
                    first_chars=first_chars(expanded),
                    scope=raw.get("scope", "customer"),
                    context=_compile(raw["id"], expand_slots(raw["context"], slots, f"{path}:{line_no}"), path) if raw.get("context") else None,
                    negatable=bool(raw.get("negatable", True)),
                    weight=float(raw.get("weight", 1.0)),
                    notes=raw.get("notes", ""),
                    unless=_compile(raw["id"], expand_slots(raw["unless"], slots, f"{path}:{line_no}"), path) if raw.get("unless") else None,
                )
            except ConfigError:
                raise
            except (KeyError, ValueError, TypeError) as exc:
                raise ConfigError(f"{path}:{line_no}: invalid rule: {exc}") from exc
            rules.append(rule)
    ids = [rule.id for rule in rules]
    if len(ids) != len(set(ids)):
        raise ConfigError(f"{path}: duplicate rule ids")
    return tuple(rules)


@lru_cache(maxsize=4)
def load_lexicon(directory: Path | None = None) -> Lexicon:
    directory = directory or models_dir()
    lexicon_path = directory / "lexicon.json"
    try:
        raw = json.loads(lexicon_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read lexicon {lexicon_path}: {exc}") from exc
    return Lexicon(
        prompt=raw["prompt"],
        terms={group: tuple(words) for group, words in raw["terms"].items()},
        carrier_messages=tuple(raw["carrier_messages"]),
        carrier_intro=raw.get("carrier_intro", {"phrases": [], "keys": []}),
        never_correct=frozenset(raw.get("never_correct", ())),
        rules=load_rules(directory / "patterns.jsonl"),
        collocations={term: tuple(words) for term, words in raw.get("collocations", {}).items()},
        vocabulary=load_vocabulary(directory / "vocabulary.txt"),
        phrases=tuple(raw.get("phrases", ())),
        topic_words={group: tuple(words) for group, words in raw.get("topic_words", {}).items()},
    )


def load_vocabulary(path: Path) -> dict[str, int]:
    """``word count`` per line, ``#`` comments; a missing file means no homophone correction."""
    if not path.is_file():
        return {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read vocabulary {path}: {exc}") from exc
    words: dict[str, int] = {}
    for line_no, line in enumerate(lines, 1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        try:
            words[fields[0]] = int(fields[1]) if len(fields) > 1 else 1
        except ValueError as exc:
            raise ConfigError(f"{path}:{line_no}: expected 'word count': {line!r}") from exc
    return words


def jieba_user_dict(lexicon: Lexicon) -> str:
    """The jieba user dictionary generated from the lexicon (one ``word freq`` line each)."""
    return "".join(f"{term} 20000\n" for term in lexicon.all_terms)
