from django.urls import path

from rooms import views

urlpatterns = [
    path("", views.hallway, name="hallway"),
]

api_urlpatterns = []
