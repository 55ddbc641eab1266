"""Builds the screen's training and held-back sets and fits the classifier (`train_screen`).

Needs scikit-learn (the optional `train` extra); nothing at runtime imports this module.

Development data: `../shared/data/injection/` (deepset prompt injections, BIPIA attacks and
e-mail carriers) plus our own texts in `content/screen_data/` (realistic dietitian documents,
dietitian imperatives that must pass, and injection strings). A seeded split holds back part
of every source, including whole BIPIA attack categories, so the held-back figures say how the
screen does on kinds of attack it was not fitted on. Poisoned documents are built by inserting
an attack into a carrier (an e-mail or a dietitian text) at the start, middle or end.
"""

from __future__ import annotations

import json
import math
import os
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from content import screening

OWN_DATA = Path(__file__).resolve().parent / "screen_data"
REPO_ROOT = Path(__file__).resolve().parent.parent


def default_data_dir() -> Path:
    """$SCREEN_DATA_DIR, else ../shared/data/injection beside the clone (as in CI)."""
    configured = os.environ.get("SCREEN_DATA_DIR")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "data" / "injection"


SEED = 20261203
HOLDOUT_FRACTION = 0.25
# Whole attack categories the classifier never sees: the held-back set measures generalisation.
HELD_BACK_CATEGORIES = ("Homophonic Substitution", "Persuasion", "Clickbait", "Anagramming")
DEFAULT_THRESHOLD = 0.7
DEFAULT_C = 1.0
BENIGN_DIETITIAN_WEIGHT = 3.0


@dataclass
class DevelopmentData:
    deepset: list[tuple[str, int]]
    attacks_by_category: dict[str, list[str]]
    email_carriers: list[str]
    own_documents: list[str]
    own_imperatives: list[str]
    own_attacks: list[str]


def _jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_development_data(data_dir: Path) -> DevelopmentData:
    return DevelopmentData(
        deepset=[(r["text"], int(r["label"])) for r in _jsonl(data_dir / "deepset-train.jsonl")],
        attacks_by_category=json.loads(
            (data_dir / "bipia-attacks-train.json").read_text(encoding="utf-8")
        ),
        email_carriers=[
            r["context"] for r in _jsonl(data_dir / "bipia-email-contexts-train.jsonl")
        ],
        own_documents=[r["text"] for r in _jsonl(OWN_DATA / "benign_documents.jsonl")],
        own_imperatives=[r["text"] for r in _jsonl(OWN_DATA / "benign_imperatives.jsonl")],
        own_attacks=[r["text"] for r in _jsonl(OWN_DATA / "attacks.jsonl")],
    )


def _split(items: list, rng: random.Random, fraction: float = HOLDOUT_FRACTION):
    items = list(dict.fromkeys(items))  # a repeated text must not land on both sides
    rng.shuffle(items)
    cut = max(1, round(len(items) * fraction))
    return items[cut:], items[:cut]  # (train, held back)


def _sentences(text: str) -> list[str]:
    return [p for p in screening.SENTENCE_END.split(text) if p and p.strip()]


def poison(carrier: str, attack: str, rng: random.Random) -> str:
    """The carrier with the attack inserted at its start, between two sentences, or at its end."""
    parts = _sentences(carrier)
    where = rng.choice(("start", "middle", "end", "end"))
    glue = rng.choice((" ", " ", "\n\n", "\n"))
    if where == "start" or len(parts) < 2:
        return f"{attack}{glue}{carrier}" if where == "start" else f"{carrier}{glue}{attack}"
    if where == "end":
        return f"{carrier}{glue}{attack}"
    middle = rng.randrange(1, len(parts))
    return " ".join(parts[:middle]) + glue + attack + glue + " ".join(parts[middle:])


def build_sets(data: DevelopmentData) -> tuple[list[tuple[str, int, float]], list[dict]]:
    """(training segments as (text, label, weight), held-back documents as dicts)."""
    rng = random.Random(SEED)
    deepset_train, deepset_held = _split(data.deepset, rng)
    bipia_train, bipia_held = [], []
    for category, attacks in sorted(data.attacks_by_category.items()):
        if category in HELD_BACK_CATEGORIES:
            bipia_held.extend(attacks)
        else:
            train, held = _split(attacks, rng, 0.2)
            bipia_train.extend(train)
            bipia_held.extend(held)
    emails_train, emails_held = _split(data.email_carriers, rng, 0.2)
    documents_train, documents_held = _split(data.own_documents, rng)
    imperatives_train, imperatives_held = _split(data.own_imperatives, rng)
    own_attacks_train, own_attacks_held = _split(data.own_attacks, rng)

    attacks_train = bipia_train + own_attacks_train
    carriers_train = emails_train + documents_train

    # (text, label, weight): a benign dietitian sentence flagged costs a real user, so the
    # classifier pays more for getting those wrong.
    examples: list[tuple[str, int, float]] = [(t, y, 1.0) for t, y in deepset_train]
    examples += [(attack, 1, 1.0) for attack in attacks_train]
    examples += [(text, 0, BENIGN_DIETITIAN_WEIGHT) for text in imperatives_train]
    for carriers, weight in ((emails_train, 1.0), (documents_train, BENIGN_DIETITIAN_WEIGHT)):
        for carrier in carriers:
            examples += [(segment, 0, weight) for segment in screening.segments(carrier)]
    # Attacks in context: each attack inside three random carriers, judged segment by segment.
    # (A generator of its own, so the held-back documents do not depend on training choices.)
    training_rng = random.Random(SEED + 1)
    for attack in attacks_train:
        for carrier in training_rng.sample(carriers_train, 3):
            document = poison(carrier, attack, training_rng)
            for segment in screening.segments(document):
                if attack.strip() in segment:
                    examples.append((segment, 1, 1.0))

    held: list[dict] = [{"text": t, "label": y, "source": "deepset"} for t, y in deepset_held]
    attacks_held = bipia_held + own_attacks_held
    direct_held = [text for text, label in deepset_held if label == 1]
    for source, carriers in (("email", emails_held), ("dietitian", documents_held)):
        for carrier in carriers:
            held.append({"text": carrier, "label": 0, "source": source})
            for attack in rng.sample(attacks_held, 3):
                held.append(
                    {"text": poison(carrier, attack, rng), "label": 1, "source": f"{source}+attack"}
                )
            # and once with a held-back direct injection (deepset) hidden in the document
            if direct_held:
                direct = rng.choice(direct_held)
                held.append(
                    {"text": poison(carrier, direct, rng), "label": 1, "source": f"{source}+direct"}
                )
    held += [{"text": t, "label": 0, "source": "imperative"} for t in imperatives_held]
    return examples, held


def _idf(document_frequency: Counter, n_documents: int, min_df: int) -> dict[str, float]:
    return {
        term: math.log((1 + n_documents) / (1 + df)) + 1.0
        for term, df in document_frequency.items()
        if df >= min_df
    }


def _matrix(grams_per_text: list[Counter], idf: dict[str, float], index: dict[str, int]):
    from scipy.sparse import csr_matrix

    rows, cols, values = [], [], []
    for row, grams in enumerate(grams_per_text):
        entries = [(index[t], (1.0 + math.log(c)) * idf[t]) for t, c in grams.items() if t in index]
        norm = math.sqrt(sum(v * v for _, v in entries)) or 1.0
        for col, value in entries:
            rows.append(row)
            cols.append(col)
            values.append(value / norm)
    return csr_matrix((values, (rows, cols)), shape=(len(grams_per_text), len(index)))


def fit(
    examples: list[tuple[str, int, float]],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    c: float = DEFAULT_C,
) -> dict:
    """Fits TF-IDF + logistic regression; returns the JSON-ready model that screening loads."""
    from scipy.sparse import hstack
    from sklearn.linear_model import LogisticRegression

    texts = [text for text, _, _ in examples]
    labels = [label for _, label, _ in examples]
    weights = [weight for _, _, weight in examples]
    blocks = []
    for featurize, min_df in ((screening.word_features, 2), (screening.char_features, 3)):
        grams = [featurize(text) for text in texts]
        frequency: Counter = Counter()
        for counter in grams:
            frequency.update(counter.keys())
        idf = _idf(frequency, len(texts), min_df)
        index = {term: i for i, term in enumerate(sorted(idf))}
        blocks.append((idf, index, _matrix(grams, idf, index)))
    features = hstack([matrix for _, _, matrix in blocks]).tocsr()
    classifier = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
    classifier.fit(features, labels, sample_weight=weights)
    coefficients = classifier.coef_[0]
    model: dict = {"intercept": round(float(classifier.intercept_[0]), 6), "threshold": threshold}
    offset = 0
    for name, (idf, index, _) in zip(("word", "char"), blocks, strict=True):
        model[name] = {
            term: [round(idf[term], 5), round(float(coefficients[offset + i]), 5)]
            for term, i in index.items()
        }
        offset += len(index)
    return model
