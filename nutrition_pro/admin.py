"""Admin for backup-code devices and sign-in lockouts: recovery tools for administrators."""

from django.contrib import admin

from nutrition_pro.models import BackupCodeDevice, SignInLockout


@admin.register(BackupCodeDevice)
class BackupCodeDeviceAdmin(admin.ModelAdmin):
    """Shows how many codes are left; the hashes are never shown. Delete to revoke them all."""

    list_display = ["user", "remaining_codes", "created_at"]
    search_fields = ["user__username"]
    fields = ["user", "name", "remaining_codes", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="unused codes")
    def remaining_codes(self, obj) -> int:
        return obj.remaining()


@admin.register(SignInLockout)
class SignInLockoutAdmin(admin.ModelAdmin):
    list_display = ["username", "failure_count", "last_failure_at", "locked_until"]
    search_fields = ["username"]
    readonly_fields = ["username", "failure_count", "first_failure_at", "last_failure_at"]
    fields = [*readonly_fields, "locked_until"]
    actions = ["unlock"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Lift the lock of the selected account names")
    def unlock(self, request, queryset):
        for row in queryset:
            row.failure_count, row.first_failure_at, row.locked_until = 0, None, None
            row.save()  # a save, not an update: the audit log tracks it
        self.message_user(request, f"Unlocked {queryset.count()} account name(s).")
