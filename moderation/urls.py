from django.urls import path

from moderation import apis, views

urlpatterns = [
    path("u/<str:username>/report/", views.report_user, name="report_user"),
]

api_urlpatterns = [
    path("reports/", apis.ReportApi.as_view(), name="api-reports"),
]
