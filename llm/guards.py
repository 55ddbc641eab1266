"""Output guards (threat T3), run in order before any text is stored as an answer.

1. leak: the request's canary, or a run of words from the system message, in the output;
2. moderation: the provider's moderation endpoint (only with the `openai` provider);
3. links: outside links and images are stripped (markdown, HTML and bare URLs);
4. nutrition: a text that recommends a listed allergen, or a daily intake under the safe
   floor without a clinical flag, is blocked.

Each guard returns a verdict dict {"guard", "outcome": passed|modified|blocked, "reason",
"details"}; the first block ends the run and the text is never returned.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

PASSED, MODIFIED, BLOCKED = "passed", "modified", "blocked"


@dataclass
class GuardResult:
    text: str
    verdicts: list[dict]

    @property
    def blocked(self) -> dict | None:
        return next((v for v in self.verdicts if v["outcome"] == BLOCKED), None)


def _verdict(guard: str, outcome: str, reason: str = "", **details) -> dict:
    return {"guard": guard, "outcome": outcome, "reason": reason, "details": details}


# --- 1. leak --------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")
LEAK_SHINGLE = 8  # words in a row copied from the system message count as a leak


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def check_leak(text: str, *, canary: str, system_text: str) -> dict:
    if canary and canary.lower() in text.lower():
        return _verdict("leak", BLOCKED, "canary_leaked")
    system_words = _words(system_text)
    shingles = {
        tuple(system_words[i : i + LEAK_SHINGLE])
        for i in range(len(system_words) - LEAK_SHINGLE + 1)
    }
    out = _words(text)
    copied = sum(
        1
        for i in range(len(out) - LEAK_SHINGLE + 1)
        if tuple(out[i : i + LEAK_SHINGLE]) in shingles
    )
    if copied >= 2:
        return _verdict("leak", BLOCKED, "system_prompt_leaked", copied_runs=copied)
    return _verdict("leak", PASSED)


# --- 2. moderation --------------------------------------------------------------------------


def check_moderation(text: str, *, moderate: Callable[[str], tuple[bool, list[str]]] | None):
    if moderate is None:
        return _verdict("moderation", PASSED, "not_applicable")
    flagged, categories = moderate(text)
    if flagged:
        return _verdict("moderation", BLOCKED, "moderation_flagged", categories=categories)
    return _verdict("moderation", PASSED)


# --- 3. links and images --------------------------------------------------------------------

_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]*)(?:\s+\"[^\"]*\")?\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_HTML_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_HTML_LINK = re.compile(r"<a\b[^>]*>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(r"</?(?:script|iframe|object|embed|style|link|meta)\b[^>]*>", re.IGNORECASE)
_BARE_URL = re.compile(
    r"\b(?:https?://|ftp://|www\.)[^\s<>()\"']+|\bdata:[a-z]+/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=]+",
    re.IGNORECASE,
)


def strip_links(text: str) -> dict:
    """Removes images and links (keeps a link's words); returns a verdict with the new text."""
    counts = {"images": 0, "links": 0}

    def image(match):
        counts["images"] += 1
        return ""

    def link(match):
        counts["links"] += 1
        return match.group(1)

    def url(match):
        counts["links"] += 1
        return "[link removed]"

    new = _MD_IMAGE.sub(image, text)
    new = _HTML_IMG.sub(image, new)
    new = _MD_LINK.sub(link, new)
    new = _HTML_LINK.sub(link, new)
    new = _HTML_TAG.sub("", new)
    new = _BARE_URL.sub(url, new)
    new = re.sub(r"[ \t]{2,}", " ", new).strip()
    if new != text.strip():
        verdict = _verdict("links", MODIFIED, "outside_content_stripped", **counts)
    else:
        verdict = _verdict("links", PASSED)
    verdict["text"] = new
    return verdict


# --- 4. nutrition safety --------------------------------------------------------------------

# Words around an allergen that mean it is being avoided, not recommended.
_AVOIDING = re.compile(
    r"\b(?:no|not|without|free|avoid\w*|exclud\w*|skip\w*|omit\w*|replac\w*|instead|"
    r"substitut\w*|swap\w*|allerg\w*|intoleran\w*|never|don'?t|do not|eliminat\w*|"
    r"ohne|kein\w*|frei|vermeid\w*)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")
# Foods that carry an allergen without naming it.
ALLERGEN_FOODS = {
    "peanut": ["peanut", "peanuts", "groundnut", "satay", "peanut butter"],
    "tree nut": ["almond", "cashew", "walnut", "pecan", "hazelnut", "pistachio", "macadamia"],
    "nut": ["almond", "cashew", "walnut", "pecan", "hazelnut", "pistachio", "peanut", "nut"],
    "milk": ["milk", "cheese", "butter", "yogurt", "yoghurt", "cream", "whey", "casein"],
    "dairy": ["milk", "cheese", "butter", "yogurt", "yoghurt", "cream", "whey", "casein"],
    "lactose": ["milk", "cheese", "yogurt", "yoghurt", "cream"],
    "egg": ["egg", "eggs", "omelette", "mayonnaise", "meringue"],
    "gluten": ["wheat", "barley", "rye", "bread", "pasta", "couscous", "seitan", "spelt"],
    "wheat": ["wheat", "bread", "pasta", "couscous", "seitan", "spelt"],
    "soy": ["soy", "soya", "tofu", "tempeh", "edamame", "miso"],
    "fish": ["fish", "salmon", "tuna", "cod", "sardine", "mackerel", "anchovy", "anchovies"],
    "shellfish": ["shrimp", "prawn", "crab", "lobster", "mussel", "oyster", "scallop", "clam"],
    "sesame": ["sesame", "tahini", "hummus"],
}


def _allergen_terms(allergy: str) -> list[str]:
    key = allergy.strip().lower()
    for suffix in (" allergy", " allergies", " intolerance"):
        key = key.removesuffix(suffix)
    key = key.removesuffix("s") if key.endswith("nuts") else key
    terms = {key, key + "s"} | set(ALLERGEN_FOODS.get(key, []))
    return sorted(t for t in terms if t)


# Compounds that name a food without the allergen ("oat milk", "peanut butter" for dairy).
_SAFE_COMPOUNDS = re.compile(
    r"\b(?:(?:oat|soy|soya|rice|coconut|almond|cashew|plant|vegan|pea|hemp|dairy-free)[\s-]+"
    r"(?:milk|cheese|butter|yogurt|yoghurt|cream)|(?:peanut|nut|almond|cashew|cocoa|shea|"
    r"apple|seed|sunflower)[\s-]+butter|coconut[\s-]+cream|nut[\s-]*meg|butternut)\b",
    re.IGNORECASE,
)


def _mentions(term: str, sentence: str) -> bool:
    if term in {"milk", "cheese", "butter", "yogurt", "yoghurt", "cream", "nut", "nuts"}:
        sentence = _SAFE_COMPOUNDS.sub(" ", sentence)
    return re.search(rf"\b{re.escape(term)}(?:s|es)?\b", sentence, re.IGNORECASE) is not None


_KCAL = re.compile(
    r"(\d{1,2}(?:[ ,.]\d{3})|\d{3,4})(?:\s*(?:-|\u2013|to)\s*(\d{1,2}(?:[ ,.]\d{3})|\d{3,4}))?"
    r"\s*(?:kcal|calories|cal\b|kilocalories)",
    re.IGNORECASE,
)
# A calorie figure counts as a daily target only in a sentence about the day's intake.
_DAILY = re.compile(
    r"\b(?:day|daily|days|intake|target|total|budget|diet of|täglich|pro tag)\b", re.IGNORECASE
)
_PER_PORTION = re.compile(
    r"\b(?:per|each|a|every|this|the)\s+(?:meal|serving|portion|snack|bowl|plate|recipe)\b",
    re.IGNORECASE,
)


def check_nutrition(text: str, *, allergies: list[str], clinical: bool, min_kcal: int) -> dict:
    for sentence in _SENTENCE.findall(text):
        for allergy in allergies:
            terms = [t for t in _allergen_terms(allergy) if _mentions(t, sentence)]
            if terms and not _AVOIDING.search(sentence):
                return _verdict(
                    "nutrition",
                    BLOCKED,
                    "allergen_recommended",
                    allergy=allergy,
                    terms=terms,
                )
    if not clinical:
        for sentence in _SENTENCE.findall(text):
            if not _DAILY.search(sentence) or _PER_PORTION.search(sentence):
                continue
            for match in _KCAL.finditer(sentence):
                low = int(re.sub(r"\D", "", match.group(1)))
                if 0 < low < min_kcal:
                    return _verdict(
                        "nutrition",
                        BLOCKED,
                        "unsafe_calorie_target",
                        kcal=low,
                        floor=min_kcal,
                    )
    return _verdict("nutrition", PASSED)


# --- the chain ------------------------------------------------------------------------------


def run_output_guards(
    text: str,
    *,
    canary: str,
    system_text: str,
    allergies: list[str],
    clinical: bool,
    min_kcal: int,
    moderate: Callable[[str], tuple[bool, list[str]]] | None,
) -> GuardResult:
    verdicts: list[dict] = []
    verdict = check_leak(text, canary=canary, system_text=system_text)
    verdicts.append(verdict)
    if verdict["outcome"] == BLOCKED:
        return GuardResult(text, verdicts)
    verdict = check_moderation(text, moderate=moderate)
    verdicts.append(verdict)
    if verdict["outcome"] == BLOCKED:
        return GuardResult(text, verdicts)
    verdict = strip_links(text)
    text = verdict.pop("text")
    verdicts.append(verdict)
    verdict = check_nutrition(text, allergies=allergies, clinical=clinical, min_kcal=min_kcal)
    verdicts.append(verdict)
    return GuardResult(text, verdicts)
