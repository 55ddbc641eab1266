"""Injection screen: time per sample on the held-back set and on sample bodies of growing length.

python -m bench content_screen
"""

import json
import statistics
import time
from pathlib import Path

from content.screening import load_model, screen_text

HOLDOUT = Path(__file__).resolve().parent.parent / "tests/content/data/screen-holdout.jsonl"
PARAGRAPH = (
    "Eat vegetables at lunch and dinner, choose whole grains, and keep a bottle of water on "
    "your desk. Forget calorie counting; use your plate as a guide instead. "
)


def _per_call_ms(texts: list[str], rounds: int = 3) -> list[float]:
    timings = []
    for _ in range(rounds):
        for text in texts:
            started = time.perf_counter()
            screen_text(text)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def run() -> None:
    load_model()  # loading the weights is a one-off cost per process, not per sample
    rows = [json.loads(line) for line in HOLDOUT.open(encoding="utf-8")]
    timings = _per_call_ms([row["text"] for row in rows])
    print(
        f"held-back set: {len(rows)} texts, mean {statistics.mean(timings):.2f} ms, "
        f"median {statistics.median(timings):.2f} ms, "
        f"p95 {statistics.quantiles(timings, n=20)[-1]:.2f} ms per sample"
    )
    for characters in (500, 2_000, 20_000):
        body = (PARAGRAPH * (characters // len(PARAGRAPH) + 1))[:characters]
        timing = statistics.median(_per_call_ms([body], rounds=5))
        print(f"body of {characters:>6,} characters: median {timing:.1f} ms")
