from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import apis, recovery, views

urlpatterns = [
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/reset/", recovery.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        recovery.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        recovery.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/profile/", views.profile_edit, name="profile_edit"),
    path(
        "accounts/email/confirm/<str:token>/",
        views.email_change_confirm_page,
        name="email_change_confirm",
    ),
    path("accounts/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
]

api_urlpatterns = [
    path("auth/signup/", apis.SignupApi.as_view(), name="api-signup"),
    path("auth/token/", apis.TokenApi.as_view(), name="api-token"),
    path("auth/tokens/", apis.ApiTokenListApi.as_view(), name="api-tokens"),
    path("auth/tokens/<int:token_id>/", apis.ApiTokenDetailApi.as_view(), name="api-token-detail"),
    path("me/", apis.MeApi.as_view(), name="api-me"),
]
