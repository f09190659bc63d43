from django.urls import path

from . import views

app_name = "research"
urlpatterns = [
    path("", views.study_list, name="studies"),
    path("new/", views.study_create, name="study_create"),
    path("<int:study_id>/", views.study_detail, name="study"),
    path("<int:study_id>/settings/", views.study_edit, name="study_edit"),
    path("<int:study_id>/team/add/", views.member_add, name="member_add"),
    path("<int:study_id>/team/<int:member_id>/remove/", views.member_remove, name="member_remove"),
    path("<int:study_id>/documents/new/", views.document_new, name="document_new"),
    path("<int:study_id>/attributes/new/", views.attribute_new, name="attribute_new"),
    path("<int:study_id>/participants/new/", views.participant_new, name="participant_new"),
    path(
        "<int:study_id>/participants/<int:participant_id>/",
        views.participant_detail,
        name="participant",
    ),
    path(
        "<int:study_id>/participants/<int:participant_id>/consent/",
        views.consent_new,
        name="consent_new",
    ),
    path(
        "<int:study_id>/participants/<int:participant_id>/interview/",
        views.interview_new,
        name="interview_new",
    ),
    path(
        "<int:study_id>/participants/<int:participant_id>/debrief/",
        views.debrief_new,
        name="debrief_new",
    ),
    path(
        "<int:study_id>/participants/<int:participant_id>/withdraw/",
        views.withdraw,
        name="withdraw",
    ),
    path("<int:study_id>/transcripts/import/", views.transcripts_import, name="transcripts_import"),
    path(
        "<int:study_id>/transcripts/<int:transcript_id>/",
        views.transcript_detail,
        name="transcript",
    ),
    path(
        "<int:study_id>/transcripts/<int:transcript_id>/redact/",
        views.transcript_redact,
        name="transcript_redact",
    ),
    path("<int:study_id>/redaction-key/", views.redaction_key, name="redaction_key"),
    path(
        "<int:study_id>/transcripts/<int:transcript_id>/delete/",
        views.transcript_delete,
        name="transcript_delete",
    ),
    path(
        "<int:study_id>/segments/<int:segment_id>/codes/<int:code_id>/remove/",
        views.segment_remove_code,
        name="segment_remove_code",
    ),
    path(
        "<int:study_id>/segments/<int:segment_id>/exemplar/",
        views.segment_exemplar,
        name="segment_exemplar",
    ),
    path("<int:study_id>/memos/new/", views.memo_new, name="memo_new"),
    path("<int:study_id>/memos/redact/", views.memo_redact, name="memo_redact"),
    path("<int:study_id>/undo/", views.coding_undo, name="undo"),
    path("<int:study_id>/codebook/", views.codebook, name="codebook"),
    path("<int:study_id>/codebook/import/", views.codebook_import, name="codebook_import"),
    path("<int:study_id>/codes/<int:code_id>/", views.code_detail, name="code"),
    path("<int:study_id>/codes/<int:code_id>/edit/", views.code_edit, name="code_edit"),
    path("<int:study_id>/codes/<int:code_id>/move/", views.code_move, name="code_move"),
    path("<int:study_id>/codes/<int:code_id>/merge/", views.code_merge, name="code_merge"),
    path("<int:study_id>/codes/<int:code_id>/split/", views.code_split, name="code_split"),
    path("<int:study_id>/codes.css", views.codes_css, name="codes_css"),
    path("<int:study_id>/analysis/", views.analysis_view, name="analysis"),
    path("<int:study_id>/analysis/words/", views.word_frequency, name="word_frequency"),
    path("<int:study_id>/import/", views.project_import, name="project_import"),
    path("<int:study_id>/export/<str:filename>", views.export, name="export"),
]
