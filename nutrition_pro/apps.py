from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class NutritionProConfig(AppConfig):
    default = True
    name = "nutrition_pro"
    verbose_name = "AI Nutrition-Pro"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from nutrition_pro import audit, roles
        from nutrition_pro.logging import install_redacting_record_factory

        install_redacting_record_factory()
        # --- control plane (issue 7) ---
        audit.register_audited_models()
        # Re-applied after every migrate (and test flush): new models join no role silently.
        post_migrate.connect(roles.roles_sync_on_migrate, dispatch_uid="nutrition_pro.roles")


class ControlPlaneAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the MFA-only control-plane site as the default site."""

    default = False
    default_site = "nutrition_pro.admin_site.ControlPlaneAdminSite"
