"""Fits the injection screen's classifier and writes its weights as JSON (needs the train extra).

    manage.py train_screen [--data-dir DIR]   (default $SCREEN_DATA_DIR or ../shared/data/injection)

Writes content/screen_model.json and the held-back set tests/content/data/screen-holdout.jsonl,
then prints the screen's figures on that held-back set.
"""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from content import screen_training, screening
from content.screen_evaluation import evaluate

DEFAULT_HOLDOUT = settings.BASE_DIR / "tests" / "content" / "data" / "screen-holdout.jsonl"


class Command(BaseCommand):
    help = "Train the injection screen's classifier on the development data."

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", type=Path, default=screen_training.default_data_dir())
        parser.add_argument("--output", type=Path, default=screening.MODEL_PATH)
        parser.add_argument("--holdout-output", type=Path, default=DEFAULT_HOLDOUT)
        parser.add_argument("--threshold", type=float, default=screen_training.DEFAULT_THRESHOLD)
        parser.add_argument("--c", type=float, default=screen_training.DEFAULT_C)

    def handle(self, *args, data_dir, output, holdout_output, threshold, c, **options):
        try:
            import sklearn  # noqa: F401
        except ImportError:
            raise CommandError("Training needs scikit-learn: pip install -e '.[train]'") from None
        if not (data_dir / "deepset-train.jsonl").exists():
            raise CommandError(f"No development data in {data_dir} (see --data-dir).")
        if not 0 < threshold < 1:
            raise CommandError("--threshold must be between 0 and 1.")

        data = screen_training.load_development_data(data_dir)
        examples, held_back = screen_training.build_sets(data)
        weights = screen_training.fit(examples, threshold=threshold, c=c)
        output.write_text(
            json.dumps(weights, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
            encoding="utf-8",
        )
        holdout_output.parent.mkdir(parents=True, exist_ok=True)
        with holdout_output.open("w", encoding="utf-8") as handle:
            for row in held_back:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        screening.forget_model()

        model = screening.LinearModel.from_json(weights)
        figures = evaluate([(r["text"], r["label"]) for r in held_back], model=model)
        self.stdout.write(f"trained on {len(examples)} segments; model written to {output}")
        self.stdout.write(f"held-back set ({holdout_output}): {figures.summary()}")
