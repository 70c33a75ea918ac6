from django.urls import path

from notifications import apis, views

urlpatterns = [
    path("notifications/", views.inbox, name="notifications"),
    path("notifications/read/", views.mark_read, name="notifications_read"),
    path("notifications/settings/", views.notification_settings, name="notification_settings"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification_open"),
    path("notifications/calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("rooms/<uuid:room_id>/calendar.ics", views.room_calendar, name="room_calendar"),
    # At the root, so that the service worker's scope is the whole site.
    path("sw.js", views.service_worker, name="service_worker"),
]

api_urlpatterns = [
    path("notifications/", apis.NotificationListApi.as_view(), name="api-notifications"),
    path("notifications/read/", apis.NotificationReadApi.as_view(), name="api-notifications-read"),
    path(
        "notifications/preferences/",
        apis.PreferencesApi.as_view(),
        name="api-notification-preferences",
    ),
    path(
        "notifications/calendar-token/",
        apis.CalendarTokenApi.as_view(),
        name="api-notification-calendar-token",
    ),
    path("push/key/", apis.PushKeyApi.as_view(), name="api-push-key"),
    path("push/subscriptions/", apis.PushSubscriptionApi.as_view(), name="api-push-subscriptions"),
]
