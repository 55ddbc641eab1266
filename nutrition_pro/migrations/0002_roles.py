"""Creates the control-plane roles (groups) from nutrition_pro.roles.ROLE_MATRIX.

Permissions of models added later are granted by the post_migrate re-sync (and
`manage.py sync_roles`), which applies the same matrix.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from nutrition_pro.roles import ROLES, roles_apply


def create_roles(apps, schema_editor):
    # Permissions are normally created after migrate; make them exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    roles_apply(Group=apps.get_model("auth", "Group"), Permission=apps.get_model("auth", "Permission"))


def delete_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("nutrition_pro", "0001_control_plane"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("tenants", "0001_initial"),
        ("content", "0001_initial"),
        ("otp_totp", "0003_add_timestamps"),
        ("auditlog", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
