"""Sign-in pages under /portal/ (namespace "signin"), used by the portal and the admin."""

from django.urls import path

from nutrition_pro import signin_views as views

app_name = "signin"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/verify/", views.verify_view, name="verify"),
    path("logout/", views.logout_view, name="logout"),
    path("reauth/", views.reauth_view, name="reauth"),
    path("account/security/", views.security_view, name="security"),
    path("account/mfa/enrol/", views.enrol_view, name="enrol"),
    path("account/mfa/backup-codes/", views.backup_codes_view, name="backup_codes"),
    path("account/password/", views.password_change_view, name="password"),
]
