"""Lists of youth named by list events are stored once per distinct list (docs/decisions/0011),
instead of one link row per event and youth (0003). The links already written become lists."""

from django.db import migrations, models


def _tables(apps, connection):
    """The lists', events' and links' tables, quoted."""
    return (
        connection.ops.quote_name(apps.get_model("audit", name)._meta.db_table)
        for name in ("AuditListedYouth", "AuditEvent", "AuditEventYouth")
    )


def links_to_lists(apps, schema_editor):
    connection = schema_editor.connection
    listed, events, links = _tables(apps, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {listed} (list_digest, youth_id) "  # noqa: S608  (models' names)
            f"SELECT DISTINCT event.object_id, link.youth_id FROM {links} link "
            f"JOIN {events} event ON event.seq = link.event_seq"
        )


def lists_to_links(apps, schema_editor):
    connection = schema_editor.connection
    listed, events, links = _tables(apps, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {links} (event_seq, youth_id) "  # noqa: S608  (models' names)
            f"SELECT event.seq, list.youth_id FROM {events} event "
            f"JOIN {listed} list ON list.list_digest = event.object_id "
            "WHERE event.action = 'list'"
        )


def triggers_on_lists(apps, schema_editor):
    from safeharbor.audit import triggers

    triggers.remove(schema_editor.connection, tables=[triggers.YOUTH_LINKS])
    triggers.install(schema_editor.connection, tables=[triggers.LISTED_YOUTH])


def triggers_on_links(apps, schema_editor):
    from safeharbor.audit import triggers

    triggers.remove(schema_editor.connection, tables=[triggers.LISTED_YOUTH])
    triggers.install(schema_editor.connection, tables=[triggers.YOUTH_LINKS])


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_list_event_youth_links"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditListedYouth",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "list_digest",
                        "youth_id",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("list_digest", models.CharField(max_length=64, verbose_name="list")),
                ("youth_id", models.UUIDField(verbose_name="youth")),
            ],
            options={
                "verbose_name": "youth named by a listed page",
                "verbose_name_plural": "youth named by listed pages",
                "indexes": [
                    models.Index(
                        fields=["youth_id", "list_digest"], name="audit_listed_youth_idx"
                    )
                ],
            },
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                condition=models.Q(("action", "list")),
                fields=["object_id", "-at", "-seq"],
                name="audit_list_shown_idx",
            ),
        ),
        migrations.RunPython(links_to_lists, lists_to_links),
        migrations.RunPython(triggers_on_lists, triggers_on_links),
        migrations.DeleteModel(name="AuditEventYouth"),
    ]
