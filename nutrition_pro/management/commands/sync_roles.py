"""Re-applies the role matrix (nutrition_pro.roles) to the role groups; --check reports drift."""

from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError

from nutrition_pro import roles


class Command(BaseCommand):
    help = "Make the role groups hold exactly the permissions of the role matrix."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Fail if a model or permission is missing from the matrix.",
        )

    def handle(self, *args, check: bool, **options):
        unclassified = roles.unclassified_permissions(Permission)
        if unclassified:
            message = "Not in the role matrix: " + ", ".join(unclassified)
            if check:
                raise CommandError(message)
            self.stderr.write(message)
        missing = roles.roles_apply(Group=Group, Permission=Permission)
        for role, permissions in missing.items():
            self.stderr.write(f"{role}: not installed yet: {', '.join(permissions)}")
        if options["verbosity"]:
            for role in roles.ROLES:
                count = Group.objects.get(name=role).permissions.count()
                self.stdout.write(f"{role}: {count} permissions")
