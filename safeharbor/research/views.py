"""Study pages. Thin: selectors read (through the study policy), services write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.http import Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from safeharbor.accounts.http import AuthenticatedHttpRequest
from safeharbor.core.forms import add_service_errors

from . import exports, findings, forms, redaction, refi, rendering, selectors, services
from .choices import DocumentKind, RedactionKind
from .models import Code, Memo, Segment
from .policy import StudyAction, can_create_study
from .transcripts import MAX_FILE_BYTES

MAX_UPLOAD_TOTAL = 60 * 1024 * 1024


def _save(form: Any, action: Callable[[], Any]) -> Any:
    """Run a service; on ValidationError put the messages on the form and return None."""
    try:
        return action()
    except ValidationError as exc:
        add_service_errors(form, exc)
        return None


@login_required
def study_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    studies = selectors.study_list(actor=request.user, request=request)
    return render(
        request,
        "research/study_list.html",
        {"studies": studies, "can_create": can_create_study(request.user)},
    )


@login_required
def study_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not can_create_study(request.user):
        raise PermissionDenied
    form = forms.StudyCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        study = _save(form, lambda: services.study_create(actor=request.user, **form.cleaned_data))
        if study is not None:
            messages.success(request, _("Study created. You lead it."))
            return redirect("research:study", study_id=study.pk)
    return render(request, "research/form.html", {"form": form, "title": _("Start a study")})


@login_required
def study_detail(request: AuthenticatedHttpRequest, study_id: int) -> HttpResponse:
    overview = selectors.study_overview(actor=request.user, study_id=study_id, request=request)
    return render(request, "research/study_detail.html", {"o": overview, "study": overview.study})


@login_required
def study_edit(request: AuthenticatedHttpRequest, study_id: int) -> HttpResponse:
    study, _access = selectors.study_get(
        actor=request.user, study_id=study_id, action=StudyAction.MANAGE
    )
    initial = {
        name: getattr(study, name)
        for name in forms.StudySettingsForm.base_fields
        if name != "interview_guide"
    }
    initial["interview_guide"] = "\n".join(study.interview_guide)
    form = forms.StudySettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        if _save(
            form,
            lambda: services.study_update(actor=request.user, study=study, **form.cleaned_data),
        ):
            messages.success(request, _("Study settings saved."))
            return redirect("research:study", study_id=study.pk)
    return render(
        request, "research/form.html", {"form": form, "study": study, "title": _("Study settings")}
    )


@login_required
def member_add(request: AuthenticatedHttpRequest, study_id: int) -> HttpResponse:
    study, _access = selectors.study_get(
        actor=request.user, study_id=study_id, action=StudyAction.MANAGE
    )
    form = forms.MemberForm(
        request.POST or None, users=selectors.user_choices_for_team(study=study)
    )
    if request.method == "POST" and form.is_valid():
        if _save(
            form, lambda: services.member_add(actor=request.user, study=study, **form.cleaned_data)
        ):
            messages.success(request, _("Study team updated."))
            return redirect("research:study", study_id=study.pk)
    return render(
        request,
        "research/form.html",
        {"form": form, "study": study, "title": _("Add to the study team")},
    )


@login_required
@require_POST
def member_remove(request: AuthenticatedHttpRequest, study_id: int, member_id: int) -> HttpResponse:
    study, member = selectors.member_get(actor=request.user, study_id=study_id, member_id=member_id)
    try:
        services.member_remove(actor=request.user, member=member)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Removed from the study team."))
    return redirect("research:study", study_id=study.pk)


@login_required
def document_new(request: AuthenticatedHttpRequest, study_id: int) -> HttpResponse:
    study, _access = selectors.study_get(
        actor=request.user, study_id=study_id, action=StudyAction.MANAGE
    )
    form = forms.DocumentForm(
        request.POST or None, initial={"kind": request.GET.get("kind", DocumentKind.CONSENT_FORM)}
    )
    if request.method == "POST" and form.is_valid():
        if _save(
            form,
            lambda: services.document_add_version(
                actor=request.user, study=study, **form.cleaned_data
            ),
        ):
            messages.success(request, _("New version saved; earlier versions are kept."))
            return redirect("research:study", study_id=study.pk)
    return render(
        request,
        "research/form.html",
        {"form": form, "study": study, "title": _("New document version")},
    )


@login_required
def attribute_new(request: AuthenticatedHttpRequest, study_id: int) -> HttpResponse:
    study, _access = selectors.study_get(
        actor=request.user, study_id=study_id, action=StudyAction.MANAGE
    )
    form = forms.AttributeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _save(
            form,
            lambda: services.attribute_define(actor=request.user, study=study, **form.cleaned_data),
        ):
            messages.success(request, _("Attribute added."))
            return redirect("research:study", study_id=study.pk)
    return render(
        request,
        "research/form.html",
        {"form": form, "study": study, "title": _("New participant attribute")},
    )


@login_required
def participant_new(request: AuthenticatedHttpRequest, study_id: int) -> HttpResponse:
    study, _access = selectors.study_get(
        actor=request.user, study_id=study_id, action=StudyAction.MANAGE
    )
    form = forms.ParticipantForm(request.POST or None, attributes=list(study.attributes.all()))
    if request.method == "POST" and form.is_valid():
        participant = _save(
            form,
            lambda: services.participant_add(
                actor=request.user,
                study=study,
                attributes=form.attribute_values(),
                **form.participant_fields(),
            ),
        )
        if participant is not None:
            messages.success(request, _("Participant added."))
            return redirect(
                "research:participant", study_id=study.pk, participant_id=participant.pk
            )
    return render(
        request, "research/form.html", {"form": form, "study": study, "title": _("New participant")}
    )


@login_required
def participant_detail(
    request: AuthenticatedHttpRequest, study_id: int, participant_id: int
) -> HttpResponse:
    study, access, participant = selectors.participant_page(
        actor=request.user, study_id=study_id, participant_id=participant_id, request=request
    )
    return render(
        request,
        "research/participant_detail.html",
        {
            "study": study,
            "participant": participant,
            "access": access,
            "values": participant.attribute_values.select_related("attribute"),
            "transcripts": participant.transcripts.defer("text"),
        },
    )


def _participant_form_view(
    request: AuthenticatedHttpRequest,
    study_id: int,
    participant_id: int,
    make_form: Callable[[Any, Any], Any],
    action: Callable[[Any, Any, dict[str, Any]], Any],
    title: str,
    done: str,
) -> HttpResponse:
    study, participant = selectors.participant_get(
        actor=request.user,
        study_id=study_id,
        participant_id=participant_id,
        action=StudyAction.MANAGE,
    )
    form = make_form(study, request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _save(form, lambda: action(study, participant, form.cleaned_data)) is not None:
            messages.success(request, done)
            return redirect(
                "research:participant", study_id=study.pk, participant_id=participant.pk
            )
    return render(
        request,
        "research/form.html",
        {"form": form, "study": study, "participant": participant, "title": title},
    )


@login_required
def consent_new(
    request: AuthenticatedHttpRequest, study_id: int, participant_id: int
) -> HttpResponse:
    return _participant_form_view(
        request,
        study_id,
        participant_id,
        lambda study, data: forms.ConsentForm(
            data, documents=study.documents.filter(kind=DocumentKind.CONSENT_FORM)
        ),
        lambda study, p, data: services.consent_record(actor=request.user, participant=p, **data),
        _("Record consent"),
        _("Consent recorded."),
    )


@login_required
def interview_new(
    request: AuthenticatedHttpRequest, study_id: int, participant_id: int
) -> HttpResponse:
    from safeharbor.accounts.models import User

    return _participant_form_view(
        request,
        study_id,
        participant_id,
        lambda study, data: forms.InterviewForm(
            data, team=User.objects.filter(study_memberships__study=study)
        ),
        lambda study, p, data: services.interview_record(actor=request.user, participant=p, **data),
        _("Record the interview"),
        _("Interview recorded."),
    )


@login_required
def debrief_new(
    request: AuthenticatedHttpRequest, study_id: int, participant_id: int
) -> HttpResponse:
    """The debrief form. Its "Search" button lists active directory services matching the
    words (the form keeps what was typed and ticked); ticked services stay listed."""
    study, participant = selectors.participant_get(
        actor=request.user,
        study_id=study_id,
        participant_id=participant_id,
        action=StudyAction.MANAGE,
    )
    post = request.POST if request.method == "POST" else None
    text = post.get("q", "").strip()[:200] if post is not None else ""
    chosen = post.getlist("services_offered") if post is not None else []
    choices, matched = selectors.debrief_service_choices(text=text, chosen=chosen)
    documents = study.documents.filter(kind=DocumentKind.DEBRIEF_STATEMENT)
    if post is not None and post.get("op") == "search":
        # Not a save: show the values back without judging them yet.
        initial = {name: post.get(name, "") for name in ("statement", "debriefed_on")}
        initial["resources_offered"] = post.get("resources_offered", "")
        form = forms.DebriefForm(
            initial={**initial, "services_offered": chosen}, documents=documents, services=choices
        )
    else:
        form = forms.DebriefForm(post, documents=documents, services=choices)
        if post is not None and form.is_valid():
            data = form.cleaned_data
            saved = _save(
                form,
                lambda: services.debrief_record(
                    actor=request.user,
                    participant=participant,
                    statement=data["statement"],
                    debriefed_on=data["debriefed_on"],
                    resources_offered=data["resources_offered"],
                    services_offered=list(data["services_offered"]),
                ),
            )
            if saved is not None:
                messages.success(request, _("Debrief recorded."))
                return redirect(
                    "research:participant", study_id=study.pk, participant_id=participant.pk
                )
    return render(
        request,
        "research/debrief_form.html",
        {
            "form": form,
            "q": text,
            "searched": bool(text),
            "matched": matched,
            "shown": min(matched, selectors.DEBRIEF_SERVICE_RESULTS),
            "study": study,
            "participant": participant,
        },
    )


@login_required
def withdraw(request: AuthenticatedHttpRequest, study_id: int, participant_id: int) -> HttpResponse:
    return _participant_form_view(
        request,
        study_id,
        participant_id,
        lambda study, data: forms.WithdrawForm(data),
        lambda study, p, data: services.participant_withdraw(
            actor=request.user,
            participant=p,
            note=data["note"],
            delete_transcripts=data["delete_transcripts"],
        ),
        _("Withdraw from the study"),
        _("The participant has withdrawn; their data is no longer in any analysis or export."),
    )


# An import request up to this size keeps its files in memory (the view reads them all into
# memory anyway): a hundred transcripts are not written to a hundred temporary files first.
IMPORT_IN_MEMORY = 16 * 1024 * 1024


class ImportUploadHandler(MemoryFileUploadHandler):
    """``MemoryFileUploadHandler`` with the import's own limit on the whole request (the
    setting's 2.5 MB is less than a study's transcripts); a larger request goes on to the
    configured handlers (temporary files), as any other upload does."""

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],  # noqa: N803  (Django's name)
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> None:
        self.activated = content_length <= IMPORT_IN_MEMORY


@csrf_exempt  # checked below, once the upload handlers are chosen (the check reads the form)
def transcripts_import(request: AuthenticatedHttpRequest, study_id: int) -> HttpResponse:
    request.upload_handlers = [ImportUploadHandler(request), *request.upload_handlers]
    return _transcripts_import(request, study_id)


@login_required
@csrf_protect
def _transcripts_import(request: AuthenticatedHttpRequest, study_id: int) -> HttpResponse:
    study, _access = selectors.study_get(
        actor=request.user, study_id=study_id, action=StudyAction.MANAGE
    )
    form = forms.TranscriptImportForm(
        request.POST or None,
        request.FILES or None,
        participants=study.participants.filter(
            withdrawn_at__isnull=True, consent__interview__isnull=False
        ),
    )
    if request.method == "POST" and form.is_valid():
        files = form.cleaned_data["upload"]
        if sum(f.size for f in files) > MAX_UPLOAD_TOTAL:
            form.add_error("upload", _("Import at most 60 MB at once."))
        else:
            single = form.cleaned_data["participant"] if len(files) == 1 else None
            uploads = [
                services.Upload(
                    filename=f.name,
                    content=f.read(MAX_FILE_BYTES + 1),
                    participant=single,
                )
                for f in files
            ]
            created = _save(
                form,
                lambda: services.transcripts_import(
                    actor=request.user, study=study, uploads=uploads
                ),
            )
            if created is not None:
                messages.success(request, _("%(n)s transcript(s) imported.") % {"n": len(created)})
                return redirect("research:study", study_id=study.pk)
    return render(
        request,
        "research/upload.html",
        {"form": form, "study": study, "title": _("Import transcripts")},
    )


@login_required
def transcript_detail(
    request: AuthenticatedHttpRequest, study_id: int, transcript_id: int
) -> HttpResponse:
    page = selectors.transcript_page(
        actor=request.user, study_id=study_id, transcript_id=transcript_id, request=request
    )
    form = forms.ApplyCodesForm(
        request.POST or None,
        paragraphs=page.paragraphs,
        code_choices=[(e.code.pk, ("— " * e.depth) + e.code.name) for e in page.codes],
    )
    if request.method == "POST":
        if not page.access.can_code:
            raise Http404
        if form.is_valid():
            codes = selectors.codes_for_coding(
                study_id=page.study.pk, code_ids=form.cleaned_data["codes"]
            )
            done = _save(
                form,
                lambda: services.segment_apply(
                    actor=request.user,
                    transcript=page.transcript,
                    start=form.cleaned_data["start"],
                    end=form.cleaned_data["end"],
                    codes=codes,
                ),
            )
            if done is not None:
                messages.success(request, _("Coded."))
                return redirect(
                    "research:transcript", study_id=study_id, transcript_id=transcript_id
                )
    return render(
        request,
        "research/transcript.html",
        {
            "p": page,
            "study": page.study,
            "form": form,
            "paragraph_options": rendering.paragraph_options(
                page.paragraphs, form["paragraph"].value()
            ),
            "code_checkboxes": rendering.code_checkboxes(page.codes, form["codes"].value() or []),
            "legend": rendering.legend(page.codes),
            "segment_list": rendering.segment_list(
                study_id=page.study.pk,
                segments=page.segments,
                csrf=get_token(request),
                can_code=page.access.can_code,
            ),
        },
    )


def _reasons() -> dict[str, str]:
    return {
        redaction.ADDED: _("added by you"),
        redaction.EMAIL: _("an e-mail address"),
        redaction.PHONE: _("a phone number"),
        redaction.KNOWN: _("already redacted in this study"),
        redaction.ADDRESS: _("a street address"),
        redaction.AGENCY: _("looks like an agency"),
        redaction.PLACE: _("looks like a county or city"),
        redaction.TITLE: _("a name after a title"),
        redaction.SPEAKER: _("a speaker's name"),
        redaction.TEAM: _("a study team member's name"),
        redaction.CAPITALISED: _("capitalised mid-sentence"),
        redaction.REPEAT: _("found elsewhere in this transcript"),
    }


def _span(value: str) -> selectors.Span | None:
    """ "12-17" (the transcript) or "m4:12-17" (memo 4) as (memo or None, start, end)."""
    memo: int | None = None
    if value.startswith("m"):
        head, sep, value = value[1:].partition(":")
        if not sep or not head.isdigit():
            return None
        memo = int(head)
    start, sep, end = value.partition("-")
    if not sep or not start.isdigit() or not end.isdigit():
        return None
    return memo, int(start), int(end)


def _memo_versions(post: Any) -> dict[int, str]:
    versions: dict[int, str] = {}
    for key in post:
        memo = key.removeprefix("memo-version-")
        if memo != key and memo.isdigit():
            versions[int(memo)] = post.get(key, "")
    return versions


def _redaction_state(
    post: Any,
) -> tuple[list[tuple[str, str]], dict[selectors.Span, str], dict[selectors.Span, str]]:
    """What the redaction form carried: words added by hand (kind, words), the ticked rows and
    every row it showed (range -> the kind chosen)."""
    added: list[tuple[str, str]] = []
    for item in post.getlist("added")[:100]:
        kind, sep, words = item.partition(":")
        if sep and kind in RedactionKind.values and words.strip():
            added.append((kind, words.strip()[: redaction.MAX_ORIGINAL_LENGTH]))
    picked: dict[selectors.Span, str] = {}
    for value in post.getlist("pick"):
        span = _span(value)
        if span is not None:
            picked[span] = post.get(f"kind-{value}", "")
    seen: dict[selectors.Span, str] = {}
    for value in post.getlist("seen"):
        span = _span(value)
        if span is not None:
            seen[span] = post.get(f"kind-{value}", "")
    return added, picked, seen


def _redaction_step(
    request: AuthenticatedHttpRequest,
) -> tuple[
    str,
    list[tuple[str, str]],
    dict[selectors.Span, str],
    dict[selectors.Span, str],
    forms.RedactionAddForm,
]:
    """The redaction form's operation and state, with a "find" (words added by hand) already
    taken in; the same for a transcript's page and the codes' memos."""
    op = request.POST.get("op", "") if request.method == "POST" else ""
    added, picked, seen = _redaction_state(request.POST)
    add_form = forms.RedactionAddForm(request.POST if op == "find" else None, prefix="add")
    if op == "find" and add_form.is_valid():
        added.append((add_form.cleaned_data["kind"], add_form.cleaned_data["words"].strip()))
        add_form = forms.RedactionAddForm(prefix="add")
    return op, added, picked, seen, add_form


@login_required
def transcript_redact(
    request: AuthenticatedHttpRequest, study_id: int, transcript_id: int
) -> HttpResponse:
    """Redaction suggestions in context; the researcher ticks, adds words by hand ("find"),
    then applies. Stateless: the form carries what was added and ticked."""
    op, added, picked, seen, add_form = _redaction_step(request)
    errors: list[str] = []
    if op == "apply":
        transcript = selectors.redaction_transcript(
            actor=request.user, study_id=study_id, transcript_id=transcript_id
        )
        try:
            result = services.transcript_redact(
                actor=request.user,
                transcript=transcript,
                choices=[
                    services.RedactionChoice(s, e, kind, memo)
                    for (memo, s, e), kind in picked.items()
                ],
                version=request.POST.get("version", ""),
                memo_versions=_memo_versions(request.POST),
            )
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(
                request,
                _(
                    "%(n)s stretches redacted with %(p)s placeholders; %(s)s coded segments "
                    "follow their words."
                )
                % {
                    "n": result.replaced,
                    "p": len(result.placeholders),
                    "s": result.segments_changed,
                },
            )
            return redirect("research:transcript", study_id=study_id, transcript_id=transcript_id)
    page = selectors.redaction_page(
        actor=request.user,
        study_id=study_id,
        transcript_id=transcript_id,
        added=added,
        picked=set(picked) if request.method == "POST" else None,
        seen=seen,
        request=request,
    )
    return _redaction_response(request, page, add_form, errors)


def _redaction_response(
    request: AuthenticatedHttpRequest, page: Any, add_form: Any, errors: list[str]
) -> HttpResponse:
    """The redaction page, for a transcript (with its memos) or for the codes' memos."""
    return render(
        request,
        "research/redact.html",
        {
            "p": page,
            "study": page.study,
            "add_form": add_form,
            "errors": errors,
            "rows": rendering.redaction_rows(
                rows=page.rows,
                kinds=RedactionKind.choices,
                reasons=_reasons(),
                show_placeholders=page.access.can_see_redaction_key,
                show_where=page.memos > 0,
            ),
        },
        status=400 if errors else 200,
    )


@login_required
def memo_redact(request: AuthenticatedHttpRequest, study_id: int) -> HttpResponse:
    """Redaction suggestions in the memos on the study's codes (the memos on a transcript and
    its segments are on the transcript's redaction page); the same form as for transcripts."""
    op, added, picked, seen, add_form = _redaction_step(request)
    errors: list[str] = []
    if op == "apply":
        study, _access = selectors.study_get(
            actor=request.user, study_id=study_id, action=StudyAction.REDACT
        )
        try:
            result = services.memos_redact(
                actor=request.user,
                study=study,
                choices=[
                    services.RedactionChoice(s, e, kind, memo)
                    for (memo, s, e), kind in picked.items()
                    if memo is not None
                ],
                memo_versions=_memo_versions(request.POST),
            )
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(
                request,
                _("%(n)s stretches redacted in memos with %(p)s placeholders.")
                % {"n": result.replaced, "p": len(result.placeholders)},
            )
            return redirect("research:codebook", study_id=study_id)
    page = selectors.memo_redaction_page(
        actor=request.user,
        study_id=study_id,
        added=added,
        picked=set(picked) if request.method == "POST" else None,
        seen=seen,
        request=request,
    )
    return _redaction_response(request, page, add_form, errors)


@login_required
def redaction_key(request: AuthenticatedHttpRequest, study_id: int) -> HttpResponse:
    study, rows = selectors.redaction_key(actor=request.user, study_id=study_id, request=request)
    return render(request, "research/redaction_key.html", {"study": study, "rows": rows})


@login_required
@require_POST
def transcript_delete(
    request: AuthenticatedHttpRequest, study_id: int, transcript_id: int
) -> HttpResponse:
    study, transcript = selectors.transcript_get(
        actor=request.user,
        study_id=study_id,
        transcript_id=transcript_id,
        action=StudyAction.MANAGE,
    )
    services.transcript_delete(actor=request.user, transcript=transcript)
    messages.success(request, _("Transcript deleted with its coding."))
    return redirect("research:study", study_id=study.pk)


def _segment(request: AuthenticatedHttpRequest, study_id: int, segment_id: int) -> Segment:
    segment = selectors.segment_for_coding(actor=request.user, segment_id=segment_id)
    if segment.study_id != study_id:
        raise Http404
    return segment


@login_required
@require_POST
def segment_remove_code(
    request: AuthenticatedHttpRequest, study_id: int, segment_id: int, code_id: int
) -> HttpResponse:
    segment = _segment(request, study_id, segment_id)
    _study, code = selectors.code_get(actor=request.user, study_id=study_id, code_id=code_id)
    try:
        services.segment_remove_code(actor=request.user, segment=segment, code=code)
    except PermissionDenied as exc:
        raise Http404 from exc
    messages.success(request, _("Code removed."))
    return redirect("research:transcript", study_id=study_id, transcript_id=segment.transcript_id)


@login_required
@require_POST
def segment_exemplar(
    request: AuthenticatedHttpRequest, study_id: int, segment_id: int
) -> HttpResponse:
    segment = _segment(request, study_id, segment_id)
    services.segment_set_exemplar(
        actor=request.user, segment=segment, is_exemplar=request.POST.get("is_exemplar") == "1"
    )
    return redirect("research:transcript", study_id=study_id, transcript_id=segment.transcript_id)


@login_required
@require_POST
def memo_new(request: AuthenticatedHttpRequest, study_id: int) -> HttpResponse:
    study, _access = selectors.study_get(
        actor=request.user, study_id=study_id, action=StudyAction.CODE
    )
    form = forms.MemoForm(request.POST)
    target: dict[str, Any] = {}
    back = redirect("research:codebook", study_id=study.pk)
    if request.POST.get("segment"):
        segment = _segment(request, study_id, int(request.POST["segment"]))
        target["segment"] = segment
        back = redirect(
            "research:transcript", study_id=study.pk, transcript_id=segment.transcript_id
        )
    elif request.POST.get("transcript"):
        _s, transcript = selectors.transcript_get(
            actor=request.user, study_id=study_id, transcript_id=int(request.POST["transcript"])
        )
        target["transcript"] = transcript
        back = redirect("research:transcript", study_id=study.pk, transcript_id=transcript.pk)
    elif request.POST.get("code"):
        _s, code = selectors.code_get(
            actor=request.user, study_id=study_id, code_id=int(request.POST["code"])
        )
        target["code"] = code
        back = redirect("research:code", study_id=study.pk, code_id=code.pk)
    if form.is_valid() and target:
        try:
            services.memo_add(
                actor=request.user, study=study, body=form.cleaned_data["body"], **target
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Memo saved."))
    else:
        messages.error(request, _("Write the memo before saving it."))
    return back


@login_required
@require_POST
def coding_undo(request: AuthenticatedHttpRequest, study_id: int) -> HttpResponse:
    moves = request.POST.get("what") == "move"
    study, _access = selectors.study_get(
        actor=request.user,
        study_id=study_id,
        action=StudyAction.MANAGE if moves else StudyAction.CODE,
    )
    try:
        action = services.coding_undo(actor=request.user, study=study, moves=moves)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("research:codebook", study_id=study.pk)
    if action is None:
        messages.info(request, _("Nothing to undo."))
        return redirect("research:codebook" if moves else "research:study", study_id=study.pk)
    messages.success(request, _("Undone: %(what)s.") % {"what": action.get_kind_display()})
    if action.transcript_id is None:
        return redirect("research:codebook", study_id=study.pk)
    return redirect("research:transcript", study_id=study.pk, transcript_id=action.transcript_id)


# --------------------------------------------------------------------------- codebook


@login_required
def codebook(request: AuthenticatedHttpRequest, study_id: int) -> HttpResponse:
    study, access, entries = selectors.codebook_for(
        actor=request.user, study_id=study_id, request=request
    )
    form = forms.CodeForm(request.POST or None, codes=study.codes.all())
    if request.method == "POST":
        if not access.can_manage:
            raise Http404
        if form.is_valid():
            if _save(
                form,
                lambda: services.code_create(actor=request.user, study=study, **form.code_fields()),
            ):
                messages.success(request, _("Code added."))
                return redirect("research:codebook", study_id=study.pk)
    return render(
        request,
        "research/codebook.html",
        {
            "study": study,
            "access": access,
            "entries": entries,
            "form": form,
            "import_form": forms.CodebookImportForm(),
            "can_undo_move": access.can_manage
            and selectors.can_undo_move(actor=request.user, study=study),
        },
    )


@login_required
def code_detail(request: AuthenticatedHttpRequest, study_id: int, code_id: int) -> HttpResponse:
    participant = request.GET.get("participant")
    study, code, rows = selectors.code_segments(
        actor=request.user,
        study_id=study_id,
        code_id=code_id,
        participant_id=int(participant) if participant and participant.isdigit() else None,
        request=request,
    )
    _study, access = selectors.study_get(actor=request.user, study_id=study_id)
    codes = study.codes.exclude(pk=code.pk)
    return render(
        request,
        "research/code_detail.html",
        {
            "study": study,
            "code": code,
            "rows": rows,
            "access": access,
            "memos": Memo.objects.filter(code=code).select_related("author"),
            "edit_form": forms.CodeEditForm(
                initial={f: getattr(code, f) for f in forms.CodeEditForm.base_fields}
            ),
            "move_form": forms.CodeMoveForm(codes=codes, initial={"parent": code.parent_id}),
            "merge_form": forms.CodeMergeForm(codes=codes),
            "split_form": forms.CodeSplitForm(
                segment_choices=[
                    (r.segment_id, f"{r.participant_code}: {r.quote[:80]}") for r in rows
                ]
            ),
            "memo_form": forms.MemoForm(),
        },
    )


def _code_action(
    request: AuthenticatedHttpRequest,
    study_id: int,
    code_id: int,
    make_form: Callable[[Any, Code], Any],
    action: Callable[[Code, dict[str, Any]], Any],
    done: str,
) -> HttpResponse:
    study, code = selectors.code_get(
        actor=request.user, study_id=study_id, code_id=code_id, action=StudyAction.MANAGE
    )
    form = make_form(study, code)
    if form.is_valid():
        try:
            result = action(code, form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, done)
            target = result if isinstance(result, Code) else code
            return redirect("research:code", study_id=study.pk, code_id=target.pk)
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("research:code", study_id=study.pk, code_id=code.pk)


@login_required
@require_POST
def code_edit(request: AuthenticatedHttpRequest, study_id: int, code_id: int) -> HttpResponse:
    return _code_action(
        request,
        study_id,
        code_id,
        lambda study, code: forms.CodeEditForm(request.POST),
        lambda code, data: services.code_update(actor=request.user, code=code, **data),
        _("Code saved."),
    )


def _wants_json(request: AuthenticatedHttpRequest) -> bool:
    """The codebook's drag and drop (codebook.js) asks for JSON; the form gets a page."""
    return request.headers.get("Accept", "").startswith("application/json")


@login_required
@require_POST
def code_move(request: AuthenticatedHttpRequest, study_id: int, code_id: int) -> HttpResponse:
    """The move form (code page) and a drop on the codebook page both post here: same
    service, same CSRF check; a drop asks for JSON and is told what happened or why not."""
    study, code = selectors.code_get(
        actor=request.user, study_id=study_id, code_id=code_id, action=StudyAction.MANAGE
    )
    form = forms.CodeMoveForm(request.POST, codes=study.codes.exclude(pk=code.pk))
    back_to_codebook = request.POST.get("next") == "codebook"
    error = ""
    if form.is_valid():
        try:
            services.code_move(
                actor=request.user,
                code=code,
                parent=form.cleaned_data["parent"],
                position=form.cleaned_data["position"],
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    if _wants_json(request):
        if error:
            return JsonResponse({"error": error}, status=400)
        message = _("“%(code)s” moved.") % {"code": code.name}
        messages.success(request, message)
        return JsonResponse(
            {"message": message, "parent": code.parent_id, "position": code.position}
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Code moved."))
    if back_to_codebook:
        return redirect("research:codebook", study_id=study.pk)
    return redirect("research:code", study_id=study.pk, code_id=code.pk)


@login_required
@require_POST
def code_merge(request: AuthenticatedHttpRequest, study_id: int, code_id: int) -> HttpResponse:
    return _code_action(
        request,
        study_id,
        code_id,
        lambda study, code: forms.CodeMergeForm(
            request.POST, codes=study.codes.exclude(pk=code.pk)
        ),
        lambda code, data: services.code_merge(
            actor=request.user, source=code, target=data["target"]
        ),
        _("Codes merged."),
    )


@login_required
@require_POST
def code_split(request: AuthenticatedHttpRequest, study_id: int, code_id: int) -> HttpResponse:
    def make(study: Any, code: Code) -> Any:
        ids = list(code.codings.values_list("segment_id", flat=True))
        return forms.CodeSplitForm(request.POST, segment_choices=[(i, str(i)) for i in ids])

    return _code_action(
        request,
        study_id,
        code_id,
        make,
        lambda code, data: services.code_split(
            actor=request.user, code=code, new_name=data["new_name"], segment_ids=data["segments"]
        ),
        _("Code split."),
    )


@login_required
@require_POST
def codebook_import(request: AuthenticatedHttpRequest, study_id: int) -> HttpResponse:
    study, _access = selectors.study_get(
        actor=request.user, study_id=study_id, action=StudyAction.MANAGE
    )
    form = forms.CodebookImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a codebook file."))
        return redirect("research:codebook", study_id=study.pk)
    upload = form.cleaned_data["file"]
    try:
        codes, report = refi.read_codebook(upload.name, upload.read(refi.MAX_CODEBOOK_BYTES + 1))
        created = services.codebook_import(actor=request.user, study=study, codes=codes)
    except (refi.ExchangeError, ValidationError) as exc:
        messages.error(
            request,
            _("The codebook was not imported: %(why)s")
            % {"why": " ".join(getattr(exc, "messages", [str(exc)]))},
        )
        return redirect("research:codebook", study_id=study.pk)
    messages.success(request, _("%(n)s codes imported.") % {"n": len(created)})
    for line in report.assumptions + report.dropped:
        messages.warning(request, line)
    return redirect("research:codebook", study_id=study.pk)


@login_required
def project_import(request: AuthenticatedHttpRequest, study_id: int) -> HttpResponse:
    study, _access = selectors.study_get(
        actor=request.user, study_id=study_id, action=StudyAction.MANAGE
    )
    form = forms.ProjectImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            project = refi.read_qdpx(upload.read(refi.MAX_PROJECT_BYTES + 1))
            result = services.project_import(actor=request.user, study=study, project=project)
        except refi.ExchangeError as exc:
            form.add_error("file", str(exc))
        except ValidationError as exc:
            add_service_errors(form, exc)
    return render(
        request,
        "research/project_import.html",
        {"form": form, "study": study, "result": result, "title": _("Import a REFI-QDA project")},
    )


# --------------------------------------------------------------------------- analysis and exports


@login_required
def analysis_view(request: AuthenticatedHttpRequest, study_id: int) -> HttpResponse:
    page = selectors.analysis_page(
        actor=request.user,
        study_id=study_id,
        breakdown=request.GET.get("by", "role"),
        request=request,
    )
    return render(
        request,
        "research/analysis.html",
        {
            "a": page,
            "study": page.study,
            "breakdown_rows": list(zip(page.counts, page.breakdown.rows, strict=True)),
            "saturation_text": findings.saturation_sentence(page.saturation),
            "bars": _bars(page.saturation),
            "heatmap_body": rendering.heatmap_body(study_id=page.study.pk, rows=page.matrix_rows),
            **_disagreements(page),
            "chart_width": 10 * len(page.saturation.steps) or 10,
        },
    )


@login_required
def word_frequency(request: AuthenticatedHttpRequest, study_id: int) -> HttpResponse:
    """Top words over every transcript or one code's segments (a GET form: only ids and
    numbers travel in the address)."""
    study, _access = selectors.study_get(actor=request.user, study_id=study_id)
    entries = selectors.codebook_plain(study=study)
    choices = [(e.code.pk, ("— " * e.depth) + e.code.name) for e in entries]
    bound = "top" in request.GET
    form = forms.WordFrequencyForm(request.GET if bound else None, codes=choices)
    code_id, top, skip = None, 50, True
    if bound and form.is_valid():
        code_id = form.cleaned_data["code"]
        top = form.cleaned_data["top"] or 50
        skip = form.cleaned_data["interviewer"]
    page = selectors.word_frequency_page(
        actor=request.user,
        study_id=study_id,
        code_id=code_id,
        top=top,
        skip_interviewer=skip,
        request=request,
    )
    if not bound:
        form = forms.WordFrequencyForm(
            initial={"code": None, "top": 50, "interviewer": True}, codes=choices
        )
    return render(
        request, "research/word_frequency.html", {"w": page, "study": page.study, "form": form}
    )


def _disagreements(page: Any, limit: int = 200) -> dict[str, Any]:
    """The first ``limit`` disagreements with coder names, and how many more there are."""
    if page.agreement is None:
        return {"disagreements": [], "more_disagreements": 0}
    names = page.coder_names
    shown = [
        (
            d.participant_code,
            d.code.name,
            ", ".join(names.get(c, str(c)) for c in d.applied_by),
            ", ".join(names.get(c, str(c)) for c in d.not_applied_by),
        )
        for d in page.agreement.disagreements[:limit]
    ]
    return {
        "disagreements": shown,
        "more_disagreements": max(0, len(page.agreement.disagreements) - limit),
    }


def _bars(saturation: Any) -> list[dict[str, Any]]:
    """Bar geometry for the saturation chart (SVG attributes: the CSP allows no inline style)."""
    peak = max((s.new_codes for s in saturation.steps), default=0) or 1
    bars = []
    for index, step in enumerate(saturation.steps):
        height = round(95 * step.new_codes / peak, 1)
        bars.append(
            {
                "x": index * 10 + 1,
                "y": round(100 - height, 1),
                "h": height,
                "reached": step.index == saturation.reached_at,
            }
        )
    return bars


@login_required
def codes_css(request: AuthenticatedHttpRequest, study_id: int) -> HttpResponse:
    css = selectors.code_css(actor=request.user, study_id=study_id)
    return HttpResponse(css, content_type="text/css; charset=utf-8")


_EXPORTS: dict[str, tuple[str, str]] = {
    "segments.csv": ("text/csv; charset=utf-8", "segments"),
    "codebook.csv": ("text/csv; charset=utf-8", "codebook"),
    "matrix.csv": ("text/csv; charset=utf-8", "matrix"),
    "segments.xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "segments",
    ),
    "codebook.xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "codebook",
    ),
    "matrix.xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "matrix"),
    "codebook.qdc": ("application/xml", ""),
    "project.qdpx": ("application/zip", ""),
    "findings.docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "",
    ),
    "findings.pdf": ("application/pdf", ""),
}


@login_required
def export(request: AuthenticatedHttpRequest, study_id: int, filename: str) -> HttpResponse:
    if filename not in _EXPORTS:
        raise Http404
    content_type, table = _EXPORTS[filename]
    actor = request.user
    if filename.endswith(".csv"):
        body = exports.table_csv(actor=actor, study_id=study_id, table=table, request=request)
    elif filename.endswith(".xlsx"):
        body = exports.table_xlsx(actor=actor, study_id=study_id, table=table, request=request)
    elif filename == "codebook.qdc":
        body = exports.codebook_qdc(actor=actor, study_id=study_id, request=request)
    elif filename == "project.qdpx":
        body = exports.project_qdpx(actor=actor, study_id=study_id, request=request)
    elif filename == "findings.pdf":
        body = exports.findings_pdf(actor=actor, study_id=study_id, request=request)
    else:
        body = exports.findings_docx(actor=actor, study_id=study_id, request=request)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="study-{study_id}-{filename}"'
    return response
