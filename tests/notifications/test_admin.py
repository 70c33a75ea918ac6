"""The staff admin's view of notifications' tables."""

import pytest

from notifications.models import PushSubscription
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="ops", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def subscription():
    return PushSubscription.objects.create(
        user=UserFactory(username="theo"),
        endpoint="https://fcm.googleapis.com/fcm/send/abc",
        p256dh="B" * 87,
        auth="secret-auth-16chr",
        user_agent="Chrome/140",
    )


def test_staff_see_which_browsers_get_pushes(staff_client, subscription):
    page = staff_client.get("/admin/notifications/pushsubscription/?q=theo").content.decode()
    assert "fcm.googleapis.com" in page
    assert "Chrome/140" in page
    detail = staff_client.get(
        f"/admin/notifications/pushsubscription/{subscription.pk}/change/"
    ).content.decode()
    assert subscription.endpoint in detail
    assert subscription.auth not in detail
    assert subscription.p256dh not in detail


def test_staff_delete_a_subscription_but_neither_add_nor_edit_one(staff_client, subscription):
    assert staff_client.get("/admin/notifications/pushsubscription/add/").status_code == 403
    url = f"/admin/notifications/pushsubscription/{subscription.pk}/change/"
    staff_client.post(url, {"user_agent": "edited"})
    subscription.refresh_from_db()
    assert subscription.user_agent == "Chrome/140"
    staff_client.post(
        f"/admin/notifications/pushsubscription/{subscription.pk}/delete/", {"post": "yes"}
    )
    assert not PushSubscription.objects.exists()
