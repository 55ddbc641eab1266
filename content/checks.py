"""System checks of the content app."""

from django.core.checks import Error, register

from content import screening


@register()
def screen_model_present(app_configs, **kwargs):
    """Without its weights the screen falls back to its rules alone: refuse to run like that."""
    if screening.MODEL_PATH.is_file() and screening.MODEL_PATH.stat().st_size > 0:
        return []
    return [
        Error(
            f"The injection screen's classifier weights are missing ({screening.MODEL_PATH}).",
            hint="Ship content/screen_model.json with the code, or run manage.py train_screen.",
            id="content.E001",
        )
    ]
