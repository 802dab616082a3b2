"""Per-fact utterance classifiers: character n-gram TF-IDF + logistic regression.

One scikit-learn ``Pipeline`` per fact of the contract (``pipeline.labels.FACTS``)
maps one utterance, read together with the agent question it answers, to a
distribution over that fact's values (``not_mentioned`` included).

Input string (``make_input``): ``normalise(context) + SEP + normalise(text)``.
The analyser (``analyse``) turns it into

* character 1-3-grams of the utterance, padded with ``<`` and ``>`` so that a
  bare "没有" is a different feature from the "没有" inside a sentence;
* character 2-3-grams of the question, prefixed ``q:``, so the question sets
  the topic ("没有" after "有没有延期或者停工" is on_schedule, after an
  identity check it is nothing) without its words counting as the customer's
  (an agent asking "有没有拿去炒股" is not evidence of stock trading);
* a length bucket of the utterance and a flag for "no question", which tell
  the model how much to trust the question;
* for short answers (12 characters or fewer) only, the utterance n-grams
  joined with the question's coarse topic and polarity ("proj-bad|<停了"),
  because a linear model cannot otherwise read "停了" differently after
  "工程停了没有" and after "店还开着吗".

No length normalisation of the tf-idf vector: evidence for a fact in one
clause of a long, multi-topic turn is not diluted by the others, and the
probabilities came out well calibrated in grouped cross-validation.

Callers pass ``make_input(question, utterance)`` strings to
``FactClassifiers.predict``; for agent turns the question is "".

Models are stored with skops (never pickle) and loaded with an explicit list of
trusted types; each file's sha256 and the scikit-learn version are checked
against ``metadata.json`` before anything is deserialised.

This module is what the pipeline needs at run time: the input format, the
features, and trusted loading. Fitting, scoring and saving the models is
``pipeline.facts.training`` (``train_all``); the two custom types the saved
models name, ``pipeline.facts.classify.analyse`` and ``DocFreqFilter``, stay
here so the shipped files keep loading.

Nothing here imports Prefect: flows/training.py wraps ``training.train_all``.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from pipeline.labels import FACT_VALUES

# What the classifiers predict: the five facts, and who is speaking (agent or
# borrower) from the words alone, which speaker attribution on mono calls uses.
SPEAKER = "speaker"
TARGET_VALUES: dict[str, tuple[str, ...]] = {**FACT_VALUES, SPEAKER: ("agent", "customer")}
TARGETS: tuple[str, ...] = tuple(TARGET_VALUES)

PIPELINE_VERSION = "1.0"
SEP = "\u241e"  # "␞": cannot come out of normalise(), so the split is unambiguous
METADATA_FILE = "metadata.json"
HELDOUT_FILE = "heldout.jsonl"  # beside the training file; scored, never trained on

# Types a model file may contain beyond skops' own allow-list (scikit-learn
# estimators, numpy arrays and scalars, builtins): our analyser and filter.
# Loading trusts exactly these, never ``trusted=True``; training refuses to
# save a model that would need anything else.
TRUSTED_TYPES: list[str] = [
    "pipeline.facts.classify.DocFreqFilter",
    "pipeline.facts.classify.analyse",
]

# Hyper-parameters, chosen by grouped cross-validation and the hold-out set.
TEXT_NGRAMS = (1, 3)
CONTEXT_NGRAMS = (2, 3)
N_FEATURES = 2**20
MIN_DF = 3
LOGREG_C = 0.5


class ModelLoadError(Exception):
    """A model directory cannot be trusted or read; the message names the file and the problem."""


# ---------------------------------------------------------------------------
# Input and features
# ---------------------------------------------------------------------------
_T2S: Any = None
_PUNCT = re.compile(r"[\s,，、;；:：。.!！…~～\-—\"“”'‘’()（）\[\]【】《》<>|]+")
_QMARK = re.compile(r"[?？]+")


def _t2s(text: str) -> str:
    """Traditional -> simplified, because Whisper sometimes writes Mandarin in traditional characters."""
    global _T2S
    if _T2S is None:
        import opencc  # local: only needed once per process

        _T2S = opencc.OpenCC("t2s")
    return str(_T2S.convert(text))


def normalise(text: str) -> str:
    """One spelling for what ASR writes several ways: width, script, case, punctuation, spaces."""
    text = unicodedata.normalize("NFKC", text or "").replace(SEP, " ")
    text = _t2s(text).lower()
    text = _QMARK.sub("?", text)
    text = _PUNCT.sub(",", text)
    text = re.sub(r",?\?,?", "?", text)
    return text.strip(",")


def make_input(context: str, text: str) -> str:
    """The classifier input for one utterance: the question it answers, SEP, the utterance.

    ``context`` is the agent's preceding question (empty for agent turns and
    when there is none); ``text`` is the utterance itself.
    """
    return f"{normalise(context)}{SEP}{normalise(text)}"


def _ngrams(s: str, lo: int, hi: int) -> Iterable[str]:
    for n in range(lo, hi + 1):
        for i in range(len(s) - n + 1):
            yield s[i:i + n]


def _length_bucket(text: str) -> str:
    n = len(re.sub(r"[,?]", "", text))
    for limit, name in ((2, "xs"), (4, "s"), (8, "m"), (16, "l")):
        if n <= limit:
            return name
    return "xl"


# Coarse topic and polarity of the agent's question, for short answers whose
# meaning depends on it ("停了" after a project question vs a business one;
# "没有" after "有没有延期" vs "有没有按计划").
_TOPICS = {
    "fund": re.compile("用途|用在|用于|用到|花在|花哪|资金|钱|挪|炒股|买房|借给|转借|理财|消费"),
    "repay": re.compile("还款|还贷|还得上|按时还|逾期|扣款|月供|压力"),
    "coll": re.compile("抵押|房子|房产|铺|门面|厂房|出租|租出|过户|卖|查封|名下"),
    "proj": re.compile("项目|工程|工地|施工|工期|完工|停工|进度|交付|延期|封顶"),
    "biz": re.compile("生意|经营|订单|效益|营业|店|厂里|开工|停产|营收"),
}
_BAD_Q = re.compile("有没有|是否有|会不会|延期|停工|停了|出租|租出|卖|抵押|查封|压力|困难|吃力|挪|炒股|买房|借给|减少|停产|耽误|损坏|变化")
_GOOD_Q = re.compile("按计划|按期|正常|按时|稳定|自己在用|名下|还在|还开着|吧\\?|对吧|是吧")
_SHORT_ANSWER = 12


def _question_keys(context: str) -> list[str]:
    """Topic-polarity keys of a question, e.g. ["proj-bad"]; empty when no topic is recognised."""
    topics = [name for name, pattern in _TOPICS.items() if pattern.search(context)]
    if _GOOD_Q.search(context):
        polarity = "good"
    elif _BAD_Q.search(context):
        polarity = "bad"
    else:
        polarity = "open"
    return [f"{t}-{polarity}" for t in topics]


def analyse(doc: str) -> list[str]:
    """Features of one ``make_input`` string.

    Utterance n-grams, ``q:`` question n-grams, a length bucket, a no-question
    flag and, for short answers only, utterance n-grams joined with the
    question's topic and polarity so a linear model can read "停了" differently
    after "工程停了没有" and after "店还开着吗".
    """
    context, sep, text = doc.partition(SEP)
    if not sep:  # a bare utterance, not built by make_input
        context, text = "", normalise(context)
    padded = f"<{text}>"
    grams = [g for g in _ngrams(padded, *TEXT_NGRAMS) if g not in ("<", ">")]
    feats = list(grams)
    feats += ["q:" + g for g in _ngrams(context, *CONTEXT_NGRAMS)]
    feats.append("len:" + _length_bucket(text))
    if not context:
        feats.append("q:none")
    elif len(text) <= _SHORT_ANSWER:
        for key in _question_keys(context):
            feats.append(f"k:{key}")
            feats += [f"{key}|{g}" for g in grams]
    return feats


def __getattr__(name: str) -> Any:
    """``DocFreqFilter`` on first use: it is a scikit-learn estimator, and run time no longer
    imports scikit-learn (``pipeline.facts.linear``); training and skops find it here."""
    if name == "DocFreqFilter":
        from pipeline.facts.doc_freq import DocFreqFilter

        return DocFreqFilter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------------------
# Loading and prediction
# ---------------------------------------------------------------------------
Prediction = tuple[str, float, dict[str, float]]


@dataclass
class FactClassifiers:
    """The loaded models of one directory, one per fact."""

    models: dict[str, Any]
    metadata: dict[str, Any]
    model_dir: Path

    def predict(self, fact: str, inputs: list[str]) -> list[Prediction]:
        """For each ``make_input`` string: (best value, its probability, the full distribution)."""
        if fact not in self.models:
            raise KeyError(f"no model for fact {fact!r}; known: {sorted(self.models)}")
        if not inputs:
            return []
        return self._predictions(self.models[fact], self.models[fact].predict_proba(list(inputs)))

    def predict_many(self, facts: list[str], inputs: list[str]) -> dict[str, list[Prediction]]:
        """Several facts on the same inputs: scikit-learn's own ``predict_proba`` per fact.

        The reference the array path (``pipeline.facts.linear``, what run time
        uses) is tested against, and the path of model folders without an export.
        """
        return {fact: self.predict(fact, inputs) for fact in facts}

    @staticmethod
    def _predictions(model: Any, proba: Any) -> list[Prediction]:
        classes = [str(c) for c in model.classes_]
        out: list[Prediction] = []
        for row in proba:
            dist = {c: float(p) for c, p in zip(classes, row)}
            best = int(np.argmax(row))
            out.append((classes[best], float(row[best]), dist))
        return out


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _read_metadata(model_dir: Path) -> dict[str, Any]:
    path = model_dir / METADATA_FILE
    if not path.is_file():
        raise ModelLoadError(f"{path}: metadata file missing; refusing to load models without it")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        meta["versions"]["sklearn"]
        meta["facts"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelLoadError(f"{path}: unreadable or incomplete metadata ({exc})") from exc
    return meta


def _check_version(meta: dict[str, Any], model_dir: Path) -> None:
    """Models trained with another scikit-learn minor version are refused: retrain instead.

    The installed version is read from the package's metadata, not by importing
    scikit-learn (1.3 s that the array path never needs).
    """
    from importlib.metadata import version

    installed = version("scikit-learn")
    recorded = str(meta["versions"]["sklearn"])
    if _major_minor(recorded) != _major_minor(installed):
        raise ModelLoadError(
            f"{model_dir / METADATA_FILE}: models were trained with scikit-learn {recorded}, "
            f"this is {installed}; retrain (flows/training.py) instead of loading across versions")


def _verified_file(model_dir: Path, fact: str, info: dict[str, Any]) -> Path:
    """The fact's skops file, after checking that its sha256 is the one metadata recorded."""
    path = model_dir / str(info.get("file", f"{fact}.skops"))
    if not path.is_file():
        raise ModelLoadError(f"{path}: model file missing")
    expected = info.get("sha256")
    if not expected:
        raise ModelLoadError(f"{path}: no sha256 recorded in metadata")
    _check_sha256(path, expected)
    return path


def _check_sha256(path: Path, expected: Any) -> None:
    actual = sha256_file(path)
    if actual != expected:
        raise ModelLoadError(f"{path}: sha256 {actual} differs from the recorded {expected}; file changed")


def _load_one(model_dir: Path, fact: str, info: dict[str, Any]) -> Any:
    """Verify the file's sha256, then deserialise it trusting only TRUSTED_TYPES."""
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    path = _verified_file(model_dir, fact, info)

    # One pass: skops refuses any type off the list before it builds anything (checking with
    # get_untrusted_types first read every archive twice: 0.16 s of a short night's start).
    try:
        model = sio.load(path, trusted=list(TRUSTED_TYPES))
    except UntrustedTypesFoundException as exc:
        raise ModelLoadError(f"{path}: contains types outside the trusted list ({exc})") from exc
    except Exception as exc:  # noqa: BLE001 - skops raises several types; all mean "cannot trust/read"
        raise ModelLoadError(f"{path}: not a readable skops file, cannot load ({type(exc).__name__}: {exc})") from exc
    if [str(c) for c in model.classes_] != sorted(TARGET_VALUES[fact]):
        raise ModelLoadError(f"{path}: classes {list(model.classes_)} differ from the contract's {fact} values")
    return model


@functools.lru_cache(maxsize=8)
def _load_cached(model_dir: str, stamp: tuple[int, ...], arrays: bool) -> Any:
    """Load once per directory and metadata version (stamp changes when metadata is rewritten)."""
    path = Path(model_dir)
    meta = _read_metadata(path)
    _check_version(meta, path)
    missing = [f for f in TARGETS if f not in meta["facts"]]
    if missing:
        raise ModelLoadError(f"{path / METADATA_FILE}: no model recorded for {missing}")
    if arrays and _arrays_match(meta):
        for fact in TARGETS:
            _verified_file(path, fact, meta["facts"][fact])  # a changed model file is refused either way
        return _load_arrays(path, meta)
    models = {fact: _load_one(path, fact, meta["facts"][fact]) for fact in TARGETS}
    hashers = {repr(sorted(m.named_steps["hash"].get_params().items(), key=str)) for m in models.values()}
    if len(hashers) != 1:
        raise ModelLoadError(f"{path}: the models do not share one n-gram hasher; retrain them together")
    return FactClassifiers(models=models, metadata=meta, model_dir=path)


def _arrays_match(meta: dict[str, Any]) -> bool:
    """Whether metadata records an array export taken from exactly the recorded skops files."""
    export = meta.get("arrays")
    if not isinstance(export, dict):
        return False
    sources = export.get("from") or {}
    return all(sources.get(fact) == meta["facts"][fact].get("sha256") for fact in TARGETS)


def _load_arrays(model_dir: Path, meta: dict[str, Any]) -> Any:
    """The models as arrays (``pipeline.facts.linear``), after checking the file's sha256."""
    from pipeline.facts.linear import LinearClassifiers, read_arrays

    export = meta["arrays"]
    path = model_dir / str(export.get("file", ""))
    if not path.is_file():
        raise ModelLoadError(f"{path}: array file missing")
    _check_sha256(path, export.get("sha256"))
    try:
        n_features, models = read_arrays(path, TARGETS)
    except (ValueError, KeyError, OSError) as exc:
        raise ModelLoadError(f"{path}: not a readable array file ({type(exc).__name__}: {exc})") from exc
    for fact, model in models.items():
        if list(model.classes) != sorted(TARGET_VALUES[fact]):
            raise ModelLoadError(f"{path}: classes {list(model.classes)} differ from the contract's {fact} values")
    return LinearClassifiers(models=models, metadata=meta, model_dir=model_dir, n_features=n_features, analyser=analyse)


def load_classifiers(model_dir: Path, *, arrays: bool = True) -> Any:
    """Load (cached) and verify the six models of ``model_dir``; raises ModelLoadError if untrusted.

    With ``arrays`` (the default) and an array export that metadata ties to
    these skops files, the models come as arrays (``LinearClassifiers``, no
    scikit-learn import); otherwise the skops files are deserialised
    (``FactClassifiers``). Both predict the same probabilities (tested).
    """
    path = Path(model_dir).resolve()
    meta_path = path / METADATA_FILE
    if not meta_path.is_file():
        raise ModelLoadError(f"{meta_path}: metadata file missing; refusing to load models without it")
    st = meta_path.stat()
    files = sorted([*path.glob("*.skops"), *path.glob("*.npz")])
    stamp = (st.st_mtime_ns, st.st_size, *(f.stat().st_mtime_ns for f in files))
    return _load_cached(str(path), stamp, arrays)


def default_model_dir() -> Path:
    """models/classifiers/ of this checkout."""
    return Path(__file__).resolve().parents[2] / "models" / "classifiers"
