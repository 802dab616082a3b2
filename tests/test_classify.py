"""Fact classifiers: training metadata, trusted loading, behaviour of the shipped models, no leakage."""
from __future__ import annotations

import json
import re
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from pipeline.facts import classify
from pipeline.facts.classify import ModelLoadError, load_classifiers, make_input
from pipeline.facts.training import train_all
from pipeline.labels import FACT_VALUES, FACTS

ROOT = Path(__file__).resolve().parents[1]
TRAINING = ROOT / "data" / "training" / "utterances.jsonl"
SHIPPED = ROOT / "models" / "classifiers"
TRUTH = ROOT / "data" / "sample" / "truth.json"


def _rows() -> list[dict]:
    return [json.loads(line) for line in TRAINING.read_text(encoding="utf-8").splitlines() if line.strip()]


def _small_subset(rows: list[dict], per_value: int = 12) -> list[dict]:
    """Enough originals (plus their noisy copies) to have every value of every fact, and little else."""
    picked: set[str] = set()
    seen: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        if row["augmented"]:
            continue
        keys = [(fact, row["labels"][fact]) for fact in FACTS] + [("speaker", row["speaker"])]
        for key in keys:
            if seen[key] < per_value:
                seen[key] += 1
                picked.add(row["orig_id"])
    return [r for r in rows if r["orig_id"] in picked]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Train once on a small subset; every test that needs a fresh model copies this directory."""
    base = tmp_path_factory.mktemp("clf")
    data = base / "subset.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _small_subset(_rows())),
                    encoding="utf-8")
    meta = train_all(data, base / "models", seed=0, cv_folds=2)
    return base / "models", meta


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


# ---------------------------------------------------------------------------
# Metadata and loading
# ---------------------------------------------------------------------------
def test_metadata_records_what_reproducing_needs(trained: tuple[Path, dict]) -> None:
    model_dir, meta = trained
    on_disk = json.loads((model_dir / "metadata.json").read_text(encoding="utf-8"))
    assert on_disk == meta
    assert re.fullmatch(r"[0-9a-f]{64}", meta["training_data"]["sha256"])
    assert {"sklearn", "skops", "numpy", "python"} <= set(meta["versions"])
    assert meta["pipeline_version"] == classify.PIPELINE_VERSION
    assert meta["created"]
    assert meta["trusted_types"] == classify.TRUSTED_TYPES
    assert True not in meta["trusted_types"]
    assert set(meta["facts"]) == set(classify.TARGETS) == set(FACTS) | {"speaker"}
    for fact, info in meta["facts"].items():
        assert set(info["n_per_class"]) == set(classify.TARGET_VALUES[fact])
        assert all(n > 0 for n in info["n_per_class"].values())
        assert 0.0 <= info["cv_macro_f1"] <= 1.0
        model_file = model_dir / info["file"]
        assert model_file.is_file()
        assert info["sha256"] == classify.sha256_file(model_file)


def test_loaded_models_predict_full_distributions(trained: tuple[Path, dict]) -> None:
    model_dir, _ = trained
    clf = load_classifiers(model_dir)
    inputs = [make_input("这笔钱用在哪了？", "都进货了"), make_input("", "好的")]
    for fact in FACTS:
        preds = clf.predict(fact, inputs)
        assert len(preds) == 2
        for value, prob, dist in preds:
            assert set(dist) == set(FACT_VALUES[fact])
            assert value == max(dist, key=dist.get)
            assert prob == pytest.approx(dist[value])
            assert sum(dist.values()) == pytest.approx(1.0)
    speaker = clf.predict("speaker", [make_input("", "请问您是张先生本人吗？本次通话将被录音"), make_input("", "钱都拿去进货了")])
    assert [value for value, _, _ in speaker] == ["agent", "customer"]
    assert clf.predict("fund_use", []) == []
    with pytest.raises(KeyError):
        clf.predict("no_such_fact", inputs)


def test_loading_is_cached(trained: tuple[Path, dict]) -> None:
    model_dir, _ = trained
    assert load_classifiers(model_dir) is load_classifiers(model_dir)


@pytest.mark.parametrize("name", ["collateral_status.skops", "linear.npz"])
def test_changed_file_bytes_are_refused(trained: tuple[Path, dict], tmp_path: Path, name: str) -> None:
    """A flipped byte in a skops model or in the array export: refused, whichever path loads."""
    model_dir = _copy(trained[0], tmp_path / "m")
    target = model_dir / name
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match=f"{name}.*sha256"):
        load_classifiers(model_dir)


def test_other_sklearn_version_is_refused(trained: tuple[Path, dict], tmp_path: Path) -> None:
    model_dir = _copy(trained[0], tmp_path / "m")
    meta_path = model_dir / "metadata.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["versions"]["sklearn"] = "0.24.2"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelLoadError, match="metadata.json.*scikit-learn 0.24.2"):
        load_classifiers(model_dir)


def test_missing_metadata_is_refused(trained: tuple[Path, dict], tmp_path: Path) -> None:
    model_dir = _copy(trained[0], tmp_path / "m")
    (model_dir / "metadata.json").unlink()
    with pytest.raises(ModelLoadError, match="metadata.json.*missing"):
        load_classifiers(model_dir)


def test_untrusted_type_is_refused_even_with_matching_hash(trained: tuple[Path, dict], tmp_path: Path) -> None:
    """A file whose hash was recorded but that holds a type off the list (here os.getcwd) is not loaded."""
    import os

    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    model_dir = _copy(trained[0], tmp_path / "m")
    target = model_dir / "fund_use.skops"
    sio.dump(FunctionTransformer(func=os.getcwd), target)
    meta_path = model_dir / "metadata.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["facts"]["fund_use"]["sha256"] = classify.sha256_file(target)
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelLoadError, match="fund_use.skops.*trusted"):
        load_classifiers(model_dir, arrays=False)
    # The array export no longer comes from the recorded skops files, so it is not used either.
    with pytest.raises(ModelLoadError, match="fund_use.skops.*trusted"):
        load_classifiers(model_dir)


# ---------------------------------------------------------------------------
# The array export (run time without scikit-learn)
# ---------------------------------------------------------------------------
def test_training_writes_an_array_export_tied_to_the_skops_files(trained: tuple[Path, dict]) -> None:
    from pipeline.facts.linear import LinearClassifiers

    model_dir, meta = trained
    arrays = meta["arrays"]
    assert arrays["sha256"] == classify.sha256_file(model_dir / arrays["file"])
    assert arrays["from"] == {fact: info["sha256"] for fact, info in meta["facts"].items()}
    assert isinstance(load_classifiers(model_dir), LinearClassifiers)
    assert isinstance(load_classifiers(model_dir, arrays=False), classify.FactClassifiers)


def test_an_array_file_holding_objects_is_refused(trained: tuple[Path, dict], tmp_path: Path) -> None:
    """np.load without pickle: an export whose arrays are Python objects is not read, whatever its hash."""
    import numpy as np

    model_dir = _copy(trained[0], tmp_path / "m")
    target = model_dir / "linear.npz"
    with np.load(target, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    arrays["fund_use/idf"] = np.asarray([object()] * len(arrays["fund_use/idf"]), dtype=object)
    np.savez(target, **arrays)
    meta_path = model_dir / "metadata.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["arrays"]["sha256"] = classify.sha256_file(target)
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelLoadError, match="linear.npz.*not a readable array file"):
        load_classifiers(model_dir)


def test_models_without_an_export_load_from_skops(trained: tuple[Path, dict], tmp_path: Path) -> None:
    """A directory trained by an older version (no array export) still loads, through skops."""
    model_dir = _copy(trained[0], tmp_path / "m")
    (model_dir / "linear.npz").unlink()
    meta_path = model_dir / "metadata.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    del meta["arrays"]
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    assert isinstance(load_classifiers(model_dir), classify.FactClassifiers)


def test_the_hash_is_scikit_learns_murmurhash() -> None:
    import random

    from sklearn.utils import murmurhash3_32 as reference

    from pipeline.facts.linear import hashed_column, murmurhash3_32

    rng = random.Random(7)
    alphabet = "的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会家可下而过天去能对小多然于心学么之都好看起发当没成只如事把还用第样道想作种开美总从无情己面最女但现前些所与经钱贷款还抵押<>:q|,?abc123"
    features = ["", "<", "q:none", "len:xl", "fund-bad|<停了", *("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 9)))
                                                          for _ in range(3000))]
    for feature in features:
        data = feature.encode("utf-8")
        assert murmurhash3_32(data) == reference(data, seed=0), feature
        assert hashed_column(feature, 2**20) == abs(reference(data, seed=0)) % 2**20


def test_arrays_and_skops_predict_the_same_probabilities() -> None:
    """The shipped export against the shipped skops models, on every turn of the frozen eval calls."""
    import numpy as np

    classify._load_cached.cache_clear()
    arrays, skops_models = load_classifiers(SHIPPED), load_classifiers(SHIPPED, arrays=False)
    assert type(arrays).__name__ == "LinearClassifiers"
    inputs = []
    for path in sorted((ROOT / "data" / "eval" / "calls").glob("*.json"))[:30]:
        question = ""
        for turn in json.loads(path.read_text(encoding="utf-8"))["turns"]:
            inputs.append(make_input("" if turn["speaker"] == "agent" else question, turn["text"]))
            question = turn["text"] if turn["speaker"] == "agent" else question
    assert len(inputs) > 200
    targets = list(classify.TARGETS)
    from_arrays, from_skops = arrays.predict_many(targets, inputs), skops_models.predict_many(targets, inputs)
    for fact in targets:
        for (v1, p1, d1), (v2, p2, d2) in zip(from_arrays[fact], from_skops[fact]):
            assert v1 == v2 and d1.keys() == d2.keys(), fact
            assert np.allclose(list(d1.values()), list(d2.values()), rtol=0, atol=1e-12), fact


def test_run_time_loading_imports_no_scikit_learn() -> None:
    """The worker's start pays for no scikit-learn, scipy or skops import (issue 17)."""
    import subprocess
    import sys

    code = ("import sys; from pipeline.batch import load_classifiers_if_present; "
            "c = load_classifiers_if_present(); c.predict_many(['fund_use'], ['x\u241ey']); "
            "print(type(c).__name__, sorted(m for m in ('sklearn', 'scipy', 'skops') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.split() == ["LinearClassifiers", "[]"]


# ---------------------------------------------------------------------------
# Behaviour of the shipped models on sentences that are not in the training data
# ---------------------------------------------------------------------------
CLEAR_CASES = [
    # (question, utterance, fact, expected value)
    ("", "那笔钱我没拿去买股票，全都用来进原材料了", "fund_use", "business_operation"),
    ("贷款主要用在哪了？", "借给我堂弟了，他开货车缺钱", "fund_use", "lend_to_others"),
    ("", "拿去给儿子付了房子首付", "fund_use", "real_estate"),
    ("", "贷款下来第二天就把信用卡全还了", "fund_use", "repay_other_debt"),
    ("这笔钱您是怎么用的？", "这个我不方便透露给你", "fund_use", "refused"),
    ("", "请问您有没有把贷款用于炒股或者买房？", "fund_use", "not_mentioned"),
    ("还款有没有压力？", "没啥压力，每月工资一发就先还了", "repayment_ability", "normal"),
    ("", "说实话这两个月挺难的，但是每个月还是按时还上了", "repayment_ability", "strained"),
    ("抵押的房子现在什么情况？", "房子去年就租给一个开小饭馆的了", "collateral_status", "leased"),
    ("", "我那个房子没卖，也没租，我自己住着", "collateral_status", "intact"),
    ("", "那套房子上个月被法院查封了", "collateral_status", "seized"),
    ("工程现在进展如何？", "现在停着，工人都回老家了", "project_progress", "suspended"),
    ("", "最近厂里订单少了差不多一半，利润也薄", "business_condition", "declining"),
    ("", "厂子已经关门了，设备都当废铁卖了", "business_condition", "ceased"),
    ("最近经营怎么样？", "还行，跟往年差不多", "business_condition", "normal"),
]


def test_clear_cases_are_not_training_sentences() -> None:
    texts = {r["text"] for r in _rows()}
    assert not [text for _, text, _, _ in CLEAR_CASES if text in texts]


@pytest.mark.parametrize(("context", "text", "fact", "expected"), CLEAR_CASES)
def test_shipped_models_on_clear_cases(context: str, text: str, fact: str, expected: str) -> None:
    value, prob, _ = load_classifiers(SHIPPED).predict(fact, [make_input(context, text)])[0]
    assert value == expected, f"{text!r}: {fact} = {value} ({prob:.2f}), expected {expected}"


def test_negated_misuse_is_not_misuse() -> None:
    value, _, dist = load_classifiers(SHIPPED).predict(
        "fund_use", [make_input("有没有拿去炒股？", "钱没有拿去炒股，全部用来进了原材料")])[0]
    assert value != "securities_investment"
    assert dist["securities_investment"] < 0.2


def test_identity_answer_states_no_fact() -> None:
    clf = load_classifiers(SHIPPED)
    inp = [make_input("请问是王先生本人吗？", "对，是我")]
    assert all(clf.predict(fact, inp)[0][0] == "not_mentioned" for fact in FACTS)


def test_shipped_models_load_and_predict_every_fact() -> None:
    """Loading and prediction work on the shipped models; their speed is measured by `python -m bench`, not here."""
    classify._load_cached.cache_clear()
    clf = load_classifiers(SHIPPED)
    inputs = [make_input("最近生意怎么样？", f"还行，第{i}个月了") for i in range(50)]
    for fact in FACTS:
        labels = clf.predict(fact, inputs)
        assert len(labels) == len(inputs)


def test_shipped_metadata_matches_shipped_training_data() -> None:
    meta = json.loads((SHIPPED / "metadata.json").read_text(encoding="utf-8"))
    assert meta["training_data"]["sha256"] == classify.sha256_file(TRAINING)
    total = sum(f.stat().st_size for f in SHIPPED.glob("*.skops"))
    assert total < 10 * 1024 * 1024


# ---------------------------------------------------------------------------
# Training data
# ---------------------------------------------------------------------------
def test_training_data_shape_and_coverage() -> None:
    rows = _rows()
    originals = [r for r in rows if not r["augmented"]]
    assert len(originals) >= 2000
    assert sum(r["source"] == "handwritten" for r in originals) >= 150
    assert len({r["id"] for r in rows}) == len(rows)
    for row in rows:
        assert row["speaker"] in ("customer", "agent")
        assert set(row["labels"]) == set(FACTS)
        assert row["source"] in ("template", "handwritten") or row["source"].startswith("augmented:")
        assert row["augmented"] == row["source"].startswith("augmented:")
    for fact in FACTS:
        counts = defaultdict(int)
        for row in originals:
            counts[row["labels"][fact]] += 1
        assert all(counts[v] >= 40 for v in FACT_VALUES[fact]), (fact, dict(counts))


def _reference_turn_texts(node: object) -> list[str]:
    """Every string under a "text" key anywhere in truth.json (the reference turns), whatever the nesting."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                found.append(value)
            else:
                found += _reference_turn_texts(value)
    elif isinstance(node, list):
        for item in node:
            found += _reference_turn_texts(item)
    return found


def _bare(text: str) -> str:
    return re.sub(r"[\W_]+", "", classify.normalise(text))


def test_no_training_sentence_comes_from_the_sample_calls() -> None:
    """Training data must be written independently of the evaluation calls.

    A training sentence of 6+ characters may not equal a reference turn, and
    one of 12+ may not occur inside one. Shorter stock phrases (好的, 没有,
    是我本人) are shared by any two Mandarin corpora and prove nothing. Only
    training ids are reported, so a failure does not print the sample calls.
    """
    assert TRUTH.is_file(), "the sample batch's truth.json is part of the repository"
    turns = {_bare(t) for t in _reference_turn_texts(json.loads(TRUTH.read_text(encoding="utf-8")))}
    turns.discard("")
    joined = "\n".join(turns)
    clashes = []
    for row in _rows():
        text = _bare(row["text"])
        if (len(text) >= 6 and text in turns) or (len(text) >= 12 and text in joined):
            clashes.append(row["id"])
    assert not clashes, f"{len(clashes)} training rows match sample reference turns: {clashes[:20]}"


def test_predict_many_equals_predict_per_fact() -> None:
    clf = load_classifiers(classify.default_model_dir())
    inputs = [make_input("这笔钱用在哪了？", "一部分进货，一部分还了信用卡"), make_input("抵押的房子呢？", "租给别人开店了")]
    many = clf.predict_many(list(FACTS), inputs)
    for fact in FACTS:
        for (v1, p1, _), (v2, p2, _) in zip(many[fact], clf.predict(fact, inputs)):
            assert v1 == v2 and p1 == pytest.approx(p2, abs=1e-12)


def test_the_linear_shortcut_equals_scikit_learns_predict_proba() -> None:
    """Run time computes the shipped pipelines as arrays (no scikit-learn); the probabilities must not move."""
    import numpy as np

    reference = load_classifiers(SHIPPED, arrays=False)
    shortcut = load_classifiers(SHIPPED)
    assert type(shortcut).__name__ == "LinearClassifiers"  # the shipped models take the shortcut
    texts = [make_input("请问贷款资金用在哪里了？", answer) for answer in (
        "都拿去进货了", "买了点股票，亏了", "房子租出去了", "厂子停了半年了", "", "嗯", "还款没问题，工程按期推进")]
    predicted = shortcut.predict_many(list(FACTS), texts)
    for fact in FACTS:
        model = reference.models[fact]
        proba = np.array([[dist[str(c)] for c in model.classes_] for _, _, dist in predicted[fact]])
        assert np.allclose(proba, model.predict_proba(texts), rtol=0, atol=1e-12), fact
    assert [p[0] for p in predicted["fund_use"]] == list(reference.models["fund_use"].predict(texts))
