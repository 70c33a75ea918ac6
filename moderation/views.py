"""Pages for reporting: the form that asks staff to look at a person."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.selectors import user_get
from core.api import ReportRateThrottle
from core.errors import ApplicationError
from moderation.forms import ReportForm
from moderation.services.reports import report_create

TOO_MANY_REPORTS = "You sent many reports lately. Wait a while and try again."


@login_required
@require_http_methods(["GET", "POST"])
def report_user(request, username):
    try:
        person = user_get(username=username)
    except ApplicationError as error:
        return render(request, "404.html", {"message": error.message}, status=404)
    if person.pk == request.user.pk:
        messages.error(request, "You cannot report yourself.")
        return redirect(person.get_absolute_url())
    form = ReportForm(request.POST or None)
    context = {"form": form, "person": person}
    if request.method == "GET":
        return render(request, "moderation/report.html", context)
    if not ReportRateThrottle().allow_request(request, None):
        form.add_error(None, TOO_MANY_REPORTS)
        return render(request, "moderation/report.html", context, status=429)
    if form.is_valid():
        try:
            report_create(reporter=request.user, user=person, **form.cleaned_data)
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, f"Thank you. Site staff will look at your report about @{person}."
            )
            return redirect(person.get_absolute_url())
    return render(request, "moderation/report.html", context, status=400)
