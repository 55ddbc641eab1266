"""The injection screen: every sample and free-text field passes through `screen_text`.

Two layers. Cheap rules catch the unambiguous signs (instruction-override phrases in English
and German, role and delimiter spoofing, hidden unicode, outside links, encoded blobs). A
small linear classifier (TF-IDF word and character n-grams, logistic regression) scores each
sentence and each pair of adjacent sentences, so an attack hidden inside a long, otherwise
ordinary document is judged on its own words rather than diluted by the text around it.

The classifier's weights are plain JSON (`content/screen_model.json`, written by
`manage.py train_screen`); inference is plain Python, so no pickle is ever loaded and
scikit-learn is needed only for training.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import re
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

logger = logging.getLogger(__name__)

MODEL_PATH = Path(__file__).resolve().parent / "screen_model.json"

# Reason codes (stable: stored on samples and shown to reviewers).
INSTRUCTION_OVERRIDE = "instruction_override"
ROLE_SPOOFING = "role_spoofing"
HIDDEN_UNICODE = "hidden_unicode"
OUTSIDE_LINK = "outside_link"
ENCODED_BLOB = "encoded_blob"
CLASSIFIER = "classifier"

RULE_SCORE = 0.99


@dataclass(frozen=True)
class ScreenVerdict:
    """The screen's judgement of one text: flagged or not, a 0..1 score, and why."""

    flagged: bool
    score: float
    reasons: list[str] = field(default_factory=list)


class UnsafeText(ValueError):
    """Text that cannot be stored at all (control characters); validation turns it into a 400."""


# --- normalisation -------------------------------------------------------------------------

_ALLOWED_CONTROLS = {"\n", "\t"}


def normalize_text(text: str) -> str:
    """NFKC-normalised text with unified line ends; refuses control characters.

    Format characters (zero-width, bidi, tag characters) are kept so the screen can see and
    report them; only C0/C1 controls other than tab and newline are refused here.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFKC", text)
    bad = sorted(
        {
            f"U+{ord(ch):04X}"
            for ch in text
            if unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS
        }
    )
    if bad:
        raise UnsafeText(f"Control characters are not allowed ({', '.join(bad[:5])}).")
    return text


# --- rules ---------------------------------------------------------------------------------


def _is_hidden_char(text: str, index: int) -> bool:
    code = ord(text[index])
    if 0xE0000 <= code <= 0xE007F:  # tag characters: invisible ASCII copies
        return True
    if code in (0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069):
        return True  # bidi embeddings, overrides and isolates
    if code in (0x200B, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0x180E, 0x00AD):
        return True  # zero-width space, word joiner, invisible operators, soft hyphen
    if code == 0xFEFF:
        return index > 0  # a byte-order mark is harmless only at the very start
    if code in (0x200C, 0x200D):
        # Joiners build emoji sequences and some scripts; between Latin letters they hide words.
        before = text[index - 1] if index > 0 else ""
        after = text[index + 1] if index + 1 < len(text) else ""
        return before.isascii() and before.isalpha() and after.isascii() and after.isalpha()
    return False


_INVISIBLE = re.compile(
    "[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad\u180e\U000e0000-\U000e007f]"
)

_VERB_EN = r"\b(ignore|disregard|forget|skip|override|bypass|neglect|abandon)\b"
_VERB_DE = r"\b(ignorier|vergiss|vergessen\s+sie|missachte|überspring|verwirf)\w*\b"
_OVERRIDE_PATTERNS = [
    # English: "ignore all previous instructions", "disregard the above context"
    _VERB_EN + r"[\w\s,'-]{0,40}?\b(previous|prior|above|earlier|preceding|former|foregoing|"
    r"initial|original|system|all|any|your|these|those)\b[\w\s'-]{0,20}?"
    r"\b(instructions?|prompts?|directives|commands?|orders|programming|assignments?)\b",
    _VERB_EN + r"[\w\s,'-]{0,40}?\b(previous|prior|above|earlier|preceding|foregoing|system)"
    r"\b[\w\s'-]{0,20}?\b(tasks?|context|messages?|rules|guidelines|constraints|"
    r"conversation|text)\b",
    r"\b(ignore|forget|disregard)\s+(everything|all)\s+(above|before|previously|prior|so\s+far|"
    r"you\s+(were|have\s+been)\s+told|(that\s+)?(i|we)\s+(said|told\s+you))\b",
    r"\b(new|updated|real|actual|true)\s+(instructions?|task|assignment|orders)\s*:",
    r"\byour\s+(new|real|actual|next)\s+(task|instructions?|job|role|assignment|goal)\s*(is\b|:)",
    r"\b(from\s+now\s+on|henceforth)\b[\w\s,]{0,20}\byou\s+(will\s+|must\s+|shall\s+|"
    r"should\s+|only\s+)?(respond|answer|reply|speak|act\s+as|pretend)\b",
    r"\byou\s+are\s+now\s+(an?\s+|the\s+|my\s+)?(\w+\s+)?(ai|assistant|bot|chatbot|model|"
    r"dan|jailbroken|unrestricted|free\s+of|in\s+developer\s+mode)\b",
    r"\byou\s+are\s+no\s+longer\s+(an?\s+)?(ai|assistant|bound|restricted|limited|chatgpt)\b",
    r"\b(pretend|imagine)\s+(that\s+)?you\s+(are|were)\s+(an?\s+)?(unrestricted|evil|"
    r"jailbroken|uncensored)\b",
    r"\b(reveal|show|print|output|repeat|display|leak|tell\s+me|give\s+me|spell\s+out)\s+"
    r"(me\s+)?((your|the)\s+(entire\s+|full\s+|hidden\s+|initial\s+|original\s+|secret\s+)?"
    r"(system\s+)?prompt|your\s+(system\s+|hidden\s+|initial\s+|original\s+|secret\s+)?"
    r"instructions|the\s+(system|hidden|initial|original|secret)\s+instructions)\b",
    r"\bsystem\s+prompt\b",
    r"\b(previous|prior|above|preceding|foregoing)\s+(instructions|prompts|directives)\b",
    r"\b(vorherig|bisherig|obig|vorangegangen)\w*\s+(anweisungen|instruktionen|befehle)\b",
    r"\b(jailbreak|jailbroken|developer\s+mode|dan\s+mode|do\s+anything\s+now)\b",
    r"\b(do\s+not|don't|never)\s+(follow|obey|apply)\s+(the|your|any)\s+(previous|prior|"
    r"original|earlier|above|system)\b",
    r"\b(ai|assistant|language\s+model|chatbot|llm)\s*[,:]?\s+(please\s+)?(ignore|"
    r"disregard|forget)\b",
    r"\b(when|while|if)\s+(you\s+)?(generat|summari[sz]|respond|reply|answer)\w*"
    r"[\w\s,]{0,60}?\b(also\s+)?(add|include|insert|append|mention|tell|recommend|say|"
    r"link|promote)\b",
    r"\b(in|into|to|within|throughout|at\s+the\s+end\s+of)\s+your\s+(response|reply|answer|"
    r"output|completion)\b",
    r"\byour\s+(response|reply|answer|output)\s+(must|should|will|has\s+to)\b",
    # German
    _VERB_DE + r"[\w\s,äöüß-]{0,40}?\b(vorherig|bisherig|obig|vorangegangen|alle|allen|"
    r"frühere|ursprünglich|deine|ihre)\w*[\w\s äöüß-]{0,20}?\b(anweisung|instruktion|befehl|"
    r"aufgabe|aufträge|auftrag|anordnung)\w*",
    r"\b(vergiss|vergessen\s+sie|ignoriere)\s+(alles|das\s+alles|all\s+das)\s*(davor|zuvor|"
    r"bisher|vorher|oben|was)?\b",
    r"\b(neue|nächste|eigentliche)\s+(aufgabe|anweisung|anweisungen)\s*:",
    r"\b(du\s+bist|sie\s+sind)\s+(jetzt|nun|ab\s+sofort)\s+(ein|eine)\s+\w*(ki|assistent|bot|"
    r"modell)\b",
    r"\b(ab\s+jetzt|ab\s+sofort|von\s+nun\s+an)\b[\w\s,]{0,20}\b(antwortest|antworten|"
    r"sprichst)\b",
    r"\b(zeige?|gib|nenne|verrate)\s+(mir\s+)?(deinen|deine|den|die|ihren)\s+(system)?"
    r"(prompt|anweisungen)\b",
]
_OVERRIDE = re.compile("|".join(f"(?:{p})" for p in _OVERRIDE_PATTERNS), re.IGNORECASE)

_ROLE_PATTERNS = [
    # "### System" as a heading of its own; "## Instructions" heads many recipes, so not it.
    r"^\s*#{2,}\s*(system|assistant|user|human|ai)\b\s*(prompt|message)?\s*(:|$)",
    r"<\|?\s*(im_start|im_end|system|assistant|user|endoftext)\s*\|?>",
    r"\[/?(inst|sys|system)\]",
    r"<</?sys>>",
    r"</?\s*(system|assistant|user|instructions?|prompt|context|document|data|sample)\s*>",
    r"^\s*(system|assistant|user|human|ai|bot)\s*(prompt|message)?\s*:\s*\S",
    r"^\s*[-=#*]{3,}\s*(end|begin|start)\s+(of\s+)?(the\s+)?(document|sample|data|context|"
    r"text|input|user\s+input|system|instructions?)\b",
    r"\b(begin|end)\s+(of\s+)?(system|hidden)\s+(prompt|instructions?|message)\b",
]
_ROLE = re.compile("|".join(f"(?:{p})" for p in _ROLE_PATTERNS), re.IGNORECASE | re.MULTILINE)

_TLDS = (
    "com|net|org|io|ai|xyz|info|biz|top|ly|co|app|site|online|click|link|ru|cn|tk|me|gg|to|"
    "shop|store|dev|page|live|club|de|uk|fr|nl|eu|ch"
)
# Links a sample never needs: URLs with a scheme, www. hosts, markdown links and images.
_LINK = re.compile(
    r"(?:\b(?:https?|ftp|file|javascript|data)\s*:\s*/{0,2}\S)"
    r"|(?:\bwww\.\S+)"
    r"|(?:!\[[^\]]*\]\s*\([^)]*\))"
    r"|(?:\[[^\]]+\]\s*\(\s*\S+\s*\))",
    re.IGNORECASE,
)
# Bare domains and e-mail addresses are common in ordinary mail, so they are a classifier
# feature (the token "xxlink") rather than a rule; the top-level part must be lower case.
_SOFT_LINK = re.compile(
    r"\b[\w.+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+\b"
    rf"|\b[A-Za-z0-9][A-Za-z0-9-]{{1,62}}(?:\.[A-Za-z0-9-]{{2,62}})*\.(?:{_TLDS})\b(?![.-]?\w)"
)

_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{40,}={0,2}")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}[\s:]?){24,}\b")
_ESCAPES = re.compile(r"(?:(?:\\x|\\u|%)[0-9a-fA-F]{2,4}){8,}")


_HYPHENATED_WORDS = re.compile(r"^[A-Za-z]+(?:[-_][A-Za-z0-9]+)+$")


def _looks_encoded(run: str) -> bool:
    """Base64-like: digits and letters mixed, not a long hyphenated phrase."""
    if _HYPHENATED_WORDS.match(run):
        return False
    has_letter = any(c.isalpha() for c in run)
    has_digit = any(c.isdigit() for c in run)
    return has_letter and has_digit


def rule_reasons(text: str) -> list[str]:
    """The reason codes the cheap rules find in (normalised) text."""
    reasons = []
    if any(_is_hidden_char(text, i) for i, ch in enumerate(text) if _INVISIBLE.match(ch)):
        reasons.append(HIDDEN_UNICODE)
    visible = _INVISIBLE.sub("", text)  # so "ig\u200bnore" still reads as "ignore"
    if _OVERRIDE.search(visible):
        reasons.append(INSTRUCTION_OVERRIDE)
    if _ROLE.search(visible):
        reasons.append(ROLE_SPOOFING)
    if _LINK.search(visible):
        reasons.append(OUTSIDE_LINK)
    if (
        any(_looks_encoded(m.group(0)) for m in _BASE64.finditer(visible))
        or _HEX.search(visible)
        or _ESCAPES.search(visible)
    ):
        reasons.append(ENCODED_BLOB)
    return reasons


# --- classifier ----------------------------------------------------------------------------

_WORD = re.compile(r"\w\w+|[?!:]")
SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+|\n+")
MAX_SEGMENT_CHARS = 600


def word_tokens(text: str) -> list[str]:
    """Lower-cased words (bare domains and e-mail addresses as "xxlink"), and ? ! : marks."""
    return _WORD.findall(_SOFT_LINK.sub(" xxlink ", text).lower())


def _word_grams(tokens: list[str]) -> Counter:
    grams = Counter(tokens)
    grams.update(f"{a} {b}" for a, b in itertools.pairwise(tokens))
    return grams


def word_features(text: str) -> Counter:
    """Word unigrams and bigrams."""
    return _word_grams(word_tokens(text))


def char_features(text: str) -> Counter:
    """Character 3- to 5-grams within word boundaries (padded words), like char_wb."""
    grams: Counter = Counter()
    for word in re.findall(r"\S+", text.lower()):
        padded = f" {word} "
        for size in (3, 4, 5):
            if len(padded) < size:
                continue
            for start in range(len(padded) - size + 1):
                grams[padded[start : start + size]] += 1
    return grams


def sentence_pieces(text: str) -> list[str]:
    """The text's sentences (and lines), long ones cut at a space before MAX_SEGMENT_CHARS."""
    pieces = []
    for part in SENTENCE_END.split(text):
        part = (part or "").strip()
        while len(part) > MAX_SEGMENT_CHARS:
            cut = part.rfind(" ", 0, MAX_SEGMENT_CHARS)
            cut = cut if cut > 0 else MAX_SEGMENT_CHARS
            pieces.append(part[:cut])
            part = part[cut:].strip()
        if part:
            pieces.append(part)
    return pieces


def _judged_whole(pieces: list[str], text: str) -> bool:
    return len(pieces) > 2 and len(text) <= MAX_SEGMENT_CHARS


def segments(text: str) -> list[str]:
    """Sentences and pairs of adjacent sentences (and a short text whole), each judged alone."""
    pieces = sentence_pieces(text)
    found = list(pieces)
    found.extend(f"{a} {b}" for a, b in itertools.pairwise(pieces))
    if _judged_whole(pieces, text):
        found.append(text.strip())  # a short text is also judged as a whole
    return found or [text]


@dataclass(frozen=True)
class LinearModel:
    """TF-IDF (sublinear tf, per-block L2 norm) + logistic regression, from plain JSON."""

    word_weights: dict[str, tuple[float, float]]  # term -> (idf, coefficient)
    char_weights: dict[str, tuple[float, float]]
    intercept: float
    threshold: float

    @classmethod
    def from_json(cls, data: dict) -> LinearModel:
        return cls(
            word_weights={t: (float(i), float(c)) for t, (i, c) in data["word"].items()},
            char_weights={t: (float(i), float(c)) for t, (i, c) in data["char"].items()},
            intercept=float(data["intercept"]),
            threshold=float(data["threshold"]),
        )

    @staticmethod
    def _block(grams: Counter, weights: dict[str, tuple[float, float]]) -> float:
        dot = 0.0
        norm = 0.0
        for term, count in grams.items():
            entry = weights.get(term)
            if entry is None:
                continue
            value = (1.0 + math.log(count)) * entry[0]
            norm += value * value
            dot += value * entry[1]
        return dot / math.sqrt(norm) if norm else 0.0

    def _from_features(self, words: Counter, chars: Counter) -> float:
        z = (
            self.intercept
            + self._block(words, self.word_weights)
            + self._block(chars, self.char_weights)
        )
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    def probability(self, text: str) -> float:
        return self._from_features(word_features(text), char_features(text))

    def document_probability(self, text: str) -> float:
        """The highest probability over `segments(text)`.

        Each sentence is featurised once; a pair's features are the sum of its two sentences'
        (plus the word bigram across the join), so a long text costs about three times one
        pass over it rather than a pass per segment.
        """
        pieces = sentence_pieces(text)
        if not pieces:
            return self.probability(text)
        tokens = [word_tokens(piece) for piece in pieces]
        words = [_known(_word_grams(t), self.word_weights) for t in tokens]
        chars = [_known(char_features(piece), self.char_weights) for piece in pieces]
        best = max(self._from_features(w, c) for w, c in zip(words, chars, strict=True))
        for i in range(len(pieces) - 1):
            pair_words = words[i] + words[i + 1]
            if tokens[i] and tokens[i + 1]:
                pair_words[f"{tokens[i][-1]} {tokens[i + 1][0]}"] += 1
            best = max(best, self._from_features(pair_words, chars[i] + chars[i + 1]))
        if _judged_whole(pieces, text):
            best = max(best, self.probability(text.strip()))
        return best


def _known(grams: Counter, weights: dict) -> Counter:
    """Only the terms the model knows: the others add nothing to the score or the norm."""
    return Counter({term: count for term, count in grams.items() if term in weights})


_load_lock = threading.Lock()


def load_model(path: Path = MODEL_PATH) -> LinearModel | None:
    """The fitted weights, read once per process (`forget_model()` after retraining)."""
    # Under the lock, so the threads of a fresh worker parse the weights once, not once each.
    with _load_lock:
        return _load_model(path)


def forget_model() -> None:
    """Drops the cached weights, so the next screen reads the file again (after retraining)."""
    _load_model.cache_clear()


@cache
def _load_model(path: Path) -> LinearModel | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        logger.warning("No screen model at %s; the screen runs on its rules alone.", path)
        return None
    return LinearModel.from_json(data)


# --- the screen ----------------------------------------------------------------------------


def screen_text(text: str, *, model: LinearModel | None = None) -> ScreenVerdict:
    """Judges one text. Flagged texts are quarantined and never reach a prompt.

    `model` overrides the shipped classifier (training and evaluation use it).
    """
    text = unicodedata.normalize("NFKC", text or "")
    reasons = rule_reasons(text)
    score = RULE_SCORE if reasons else 0.0
    model = model or load_model()
    if model is not None and text.strip():
        probability = model.document_probability(_INVISIBLE.sub("", text))
        if probability >= model.threshold:
            if OUTSIDE_LINK not in reasons and _SOFT_LINK.search(text):
                reasons.append(OUTSIDE_LINK)
            reasons.append(CLASSIFIER)
        # The reported score puts the classifier's threshold at 0.5 so scores compare.
        scaled = _scaled(probability, model.threshold)
        score = max(score, scaled)
    return ScreenVerdict(flagged=bool(reasons), score=round(score, 4), reasons=reasons)


def _scaled(probability: float, threshold: float) -> float:
    if probability < threshold:
        return 0.5 * probability / threshold if threshold else 0.0
    return 0.5 + 0.5 * (probability - threshold) / (1.0 - threshold) if threshold < 1 else 1.0
