"""The dietitian portal: a signed-in dietitian lists, uploads, edits and deletes their samples.

Sign-in, MFA and throttling are the accounts pages' (`/portal/login/`); these views only need
a session user linked to a Dietitian. Anyone else gets 404, and so does another's sample.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from content import selectors, services
from content.forms import SampleForm
from content.models import ContentSample
from nutrition_pro.exceptions import InvalidInput
from tenants.models import Dietitian

PAGE_SIZE = 25


def _dietitian(request) -> Dietitian:
    dietitian = getattr(request.user, "dietitian", None)
    if dietitian is None:
        raise Http404("No dietitian profile for this account.")
    if not dietitian.tenant.is_active:
        raise PermissionDenied("This tenant is suspended.")
    return dietitian


def _add_service_errors(form: SampleForm, error: InvalidInput) -> None:
    for field, problems in (error.details or {}).items():
        target = field if field in form.fields else None
        for problem in problems if isinstance(problems, list) else [problems]:
            form.add_error(target, str(problem))
    if not error.details:
        form.add_error(None, error.message)


def _saved_message(request, sample: ContentSample) -> None:
    if sample.status == ContentSample.Status.APPROVED:
        messages.success(request, "Saved. The sample passed the screen and can be used.")
    else:
        messages.warning(
            request,
            "Saved, but the screen flagged it for review; it is not used until staff approve it.",
        )


@login_required
@require_http_methods(["GET"])
def sample_list(request):
    dietitian = _dietitian(request)
    status = request.GET.get("status")
    status = status if status in ContentSample.Status.values else None
    samples = selectors.dietitian_sample_list(dietitian=dietitian, status=status)
    page = Paginator(samples, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/dietitian/sample_list.html",
        {
            "dietitian": dietitian,
            "page": page,
            "status": status,
            "statuses": ContentSample.Status.choices,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def sample_create(request):
    dietitian = _dietitian(request)
    form = SampleForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            sample = services.sample_create(
                tenant=dietitian.tenant, dietitian=dietitian, **form.sample_fields()
            )
        except InvalidInput as error:
            _add_service_errors(form, error)
        else:
            _saved_message(request, sample)
            return redirect("portal-samples")
    return render(request, "portal/dietitian/sample_form.html", {"form": form, "sample": None})


@login_required
@require_http_methods(["GET", "POST"])
def sample_edit(request, sample_id):
    dietitian = _dietitian(request)
    sample = selectors.dietitian_sample_get(dietitian=dietitian, sample_id=sample_id)
    initial = {
        "title": sample.title,
        "kind": sample.kind,
        "language": sample.language,
        "body": sample.body,
    }
    form = SampleForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            sample = services.sample_update(sample=sample, **form.sample_fields())
        except InvalidInput as error:
            _add_service_errors(form, error)
        else:
            _saved_message(request, sample)
            return redirect("portal-samples")
    return render(request, "portal/dietitian/sample_form.html", {"form": form, "sample": sample})


@login_required
@require_http_methods(["GET", "POST"])
def sample_delete(request, sample_id):
    dietitian = _dietitian(request)
    sample = selectors.dietitian_sample_get(dietitian=dietitian, sample_id=sample_id)
    if request.method == "POST":
        services.sample_delete(sample=sample)
        messages.success(request, "The sample was deleted.")
        return redirect("portal-samples")
    return render(request, "portal/dietitian/sample_confirm_delete.html", {"sample": sample})
