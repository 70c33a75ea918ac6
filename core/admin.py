"""What the apps' admin classes share: actions that ask a few questions first.

Staff actions call services one object at a time; a refusal of one (an ApplicationError)
becomes a message and the others still go through.
"""

from collections.abc import Callable, Iterable

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.template.response import TemplateResponse
from django.urls import reverse

from core.errors import ApplicationError


def form_action(
    model_admin: admin.ModelAdmin,
    request,
    queryset,
    *,
    form_class,
    title: str,
    submit: str,
    perform: Callable[[dict], None],
    intro: str = "",
    form_kwargs: dict | None = None,
):
    """Django's intermediate-page pattern: the first call shows `form_class` for the selected
    objects; the page posts back to the same action with `apply`, and then `perform` gets the
    cleaned data. Returns the page, or None to go back to the list."""
    form = form_class(request.POST if "apply" in request.POST else None, **(form_kwargs or {}))
    if form.is_bound and form.is_valid():
        perform(form.cleaned_data)
        return None
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "intro": intro,
        "submit": submit,
        "form": form,
        "objects": queryset,
        "opts": model_admin.model._meta,
        "action": request.POST.get("action", ""),
        "select_across": request.POST.get("select_across", "0"),
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, "admin/form_action.html", context)


def apply_each(
    request, objects: Iterable, call: Callable, *, done: str, noun: tuple[str, str], label=str
) -> list:
    """Calls `call(obj)` for each object; says how many went through and why others did not.
    `done` is a message whose `{count}` becomes "1 person" or "3 people" with `noun` as
    (singular, plural). Returns what the successful calls returned."""
    results = []
    for obj in objects:
        try:
            results.append(call(obj))
        except ApplicationError as error:
            messages.error(request, f"{label(obj)}: {error.message}")
    if results:
        count = len(results)
        messages.success(request, done.format(count=f"{count} {noun[count != 1]}"))
    return results


class ObjectActionsMixin:
    """Offers some of the list's actions as buttons on each object's page, to staff allowed
    to run them. `object_actions` maps action names to button labels."""

    object_actions: dict[str, str] = {}
    change_form_template = "admin/change_form_object_actions.html"

    def object_actions_for(self, obj) -> dict[str, str]:
        """The buttons that make sense for this object (all of them unless overridden)."""
        return self.object_actions

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        offered = self.object_actions_for(obj) if obj is not None else {}
        allowed = self.get_actions(request)
        opts = self.model._meta
        extra_context = {
            **(extra_context or {}),
            "object_actions": [(name, label) for name, label in offered.items() if name in allowed],
            "object_actions_url": reverse(
                f"admin:{opts.app_label}_{opts.model_name}_changelist",
                current_app=self.admin_site.name,
            ),
        }
        return super().change_view(request, object_id, form_url, extra_context)


class ViewOnlyMixin:
    """An admin page that shows history (a log, a chat, a transcript): staff read it; nobody
    adds, edits or deletes through it."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
