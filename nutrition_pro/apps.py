from django.apps import AppConfig


class NutritionProConfig(AppConfig):
    name = "nutrition_pro"
    verbose_name = "AI Nutrition-Pro"

    def ready(self) -> None:
        from nutrition_pro.logging import install_redacting_record_factory

        install_redacting_record_factory()
