"""Prints the injection screen's precision, recall, false-positive rate and time per sample.

manage.py evaluate_screen FILE.jsonl     (one {"text": ..., "label": 0 or 1} per line)
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from content.screen_evaluation import evaluate, read_labelled


class Command(BaseCommand):
    help = "Measure the injection screen on a labelled JSONL file (label 1 = injection)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            rows = read_labelled(file)
        except FileNotFoundError:
            raise CommandError(f"No such file: {file}") from None
        except ValueError as exc:
            raise CommandError(f"{file}: {exc}") from None
        if not rows:
            raise CommandError(f"{file} holds no labelled rows.")
        figures = evaluate(rows)
        self.stdout.write(
            f"samples: {len(rows)} (injections {sum(label for _, label in rows)})\n"
            f"precision: {figures.precision:.3f}\n"
            f"recall: {figures.recall:.3f}\n"
            f"false positive rate: {figures.false_positive_rate:.3f}\n"
            f"time per sample: {figures.seconds_per_sample * 1000:.2f} ms\n"
            f"confusion: tp={figures.true_positives} fp={figures.false_positives} "
            f"tn={figures.true_negatives} fn={figures.false_negatives}"
        )
