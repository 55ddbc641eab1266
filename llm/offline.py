"""The `offline` provider: real, deterministic text with no network (for `make run`).

It assembles the text from the request's inputs and the dietitian's samples (their
opening and sign-off lines carry the voice), and labels it as offline output.
"""

import hashlib
import re

from llm.client import Completion

OFFLINE_LABEL = "[Offline draft: written by the built-in offline generator, not an AI model.]"
OFFLINE_MODEL = "offline-template-1"

_OPENINGS = {
    "diet_introduction": "Here is an introduction to the way of eating we will follow together.",
    "meal_plan_summary": "Here is a summary of your meal plan for the coming weeks.",
    "recipe_description": "Here is a recipe that fits your plan well.",
}
_GOAL_LINES = [
    "Everything in it is chosen with your goals in mind: {goals}.",
    "We built it around what matters most to you: {goals}.",
]
_PREFERENCE_LINE = "It respects your preferences ({prefs}), so every meal feels like your own."
_ALLERGY_LINE = "It avoids everything you told us you must not eat: {allergies}."
_STRUCTURE = {
    "diet_introduction": [
        "Start with regular meals: breakfast, lunch and dinner at steady times, with a snack "
        "when you are truly hungry.",
        "Fill half the plate with vegetables, a quarter with protein and a quarter with whole "
        "grains or starchy vegetables.",
        "Drink water through the day and keep sweet drinks for special occasions.",
    ],
    "meal_plan_summary": [
        "Each day has three balanced meals and one or two small snacks.",
        "Vegetables and fruit appear at every meal, with protein spread across the day.",
        "The week repeats a few favourites so shopping and cooking stay simple.",
    ],
    "recipe_description": [
        "It is built on vegetables, a good source of protein and a whole-grain base.",
        "It keeps well, so you can cook once and enjoy it twice.",
        "Serve it warm with a fresh side salad and a glass of water.",
    ],
}
_LENGTH_SENTENCES = {"short": 1, "medium": 2, "long": 3}
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]")


def _voice_lines(samples) -> tuple[str, str]:
    """An opening and a sign-off in the dietitian's words, from their samples."""
    sentences = []
    for sample in samples:
        sentences.extend(s.strip() for s in _SENTENCE.findall(sample.body) if 20 <= len(s) <= 160)
    if not sentences:
        return "", ""
    return sentences[0], sentences[-1] if len(sentences) > 1 else ""


def _join(items) -> str:
    items = [str(i) for i in items if str(i).strip()]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def compose(*, kind: str, dietitian_name: str, inputs: dict, samples) -> Completion:
    opening_in_voice, sign_off = _voice_lines(samples)
    seed = int(hashlib.sha256(repr((kind, sorted(inputs.items()))).encode()).hexdigest(), 16)
    paragraphs = [OFFLINE_LABEL, _OPENINGS[kind]]
    if opening_in_voice:
        paragraphs.append(f"As I often say: {opening_in_voice}")
    lines = []
    if inputs.get("goals"):
        lines.append(_GOAL_LINES[seed % len(_GOAL_LINES)].format(goals=_join(inputs["goals"])))
    if inputs.get("dietary_preferences"):
        lines.append(_PREFERENCE_LINE.format(prefs=_join(inputs["dietary_preferences"])))
    if inputs.get("allergies"):
        lines.append(_ALLERGY_LINE.format(allergies=_join(inputs["allergies"])))
    if lines:
        paragraphs.append(" ".join(lines))
    count = _LENGTH_SENTENCES.get(inputs.get("length") or "medium", 2)
    structure = _STRUCTURE[kind]
    paragraphs.append(" ".join(structure[: count + 1]))
    paragraphs.append(sign_off or "Take it one step at a time, and ask me whenever you need help.")
    paragraphs.append(f"- {dietitian_name}")
    text = "\n\n".join(paragraphs)
    words = len(text.split())
    return Completion(
        text=text,
        model=OFFLINE_MODEL,
        prompt_tokens=0,
        completion_tokens=int(words * 1.3),
        latency_ms=0,
        provider="offline",
    )
