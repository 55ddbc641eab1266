"""Measures the screen on labelled texts: precision, recall, false-positive rate, time."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from content.screening import LinearModel, screen_text


@dataclass(frozen=True)
class ScreenFigures:
    """Confusion counts of the screen on a labelled set (label 1 = injection)."""

    true_positives: int
    false_positives: int
    true_negatives: int
    false_negatives: int
    seconds_per_sample: float

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        attacks = self.true_positives + self.false_negatives
        return self.true_positives / attacks if attacks else 1.0

    @property
    def false_positive_rate(self) -> float:
        benign = self.false_positives + self.true_negatives
        return self.false_positives / benign if benign else 0.0

    def summary(self) -> str:
        total = self.true_positives + self.false_positives + self.true_negatives
        total += self.false_negatives
        return (
            f"samples={total} precision={self.precision:.3f} recall={self.recall:.3f} "
            f"false_positive_rate={self.false_positive_rate:.3f} "
            f"ms_per_sample={self.seconds_per_sample * 1000:.2f}"
        )


def read_labelled(path: Path) -> list[tuple[str, int]]:
    """{"text", "label"} per line (label 1 = injection, 0 = benign)."""
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            record = json.loads(line)
            if not isinstance(record.get("text"), str) or record.get("label") not in (0, 1):
                raise ValueError(f"line {number}: expected {{'text': str, 'label': 0 or 1}}")
            rows.append((record["text"], record["label"]))
    return rows


def evaluate(rows: list[tuple[str, int]], *, model: LinearModel | None = None) -> ScreenFigures:
    counts = {"tp": 0, "fp": 0, "tn": 0, "fn": 0}
    started = time.perf_counter()
    for text, label in rows:
        flagged = screen_text(text, model=model).flagged
        key = ("tp" if label else "fp") if flagged else ("fn" if label else "tn")
        counts[key] += 1
    elapsed = time.perf_counter() - started
    return ScreenFigures(
        true_positives=counts["tp"],
        false_positives=counts["fp"],
        true_negatives=counts["tn"],
        false_negatives=counts["fn"],
        seconds_per_sample=elapsed / len(rows) if rows else 0.0,
    )
