import django.db.models.deletion
from django.db import migrations, models


def install_triggers(apps, schema_editor):
    from safeharbor.audit import triggers

    triggers.install(schema_editor.connection, tables=[triggers.YOUTH_LINKS])


def remove_triggers(apps, schema_editor):
    from safeharbor.audit import triggers

    triggers.remove(schema_editor.connection, tables=[triggers.YOUTH_LINKS])


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_chain_head_and_append_only_triggers"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditEventYouth",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "event_id",
                        "youth_id",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("youth_id", models.UUIDField(verbose_name="youth")),
                (
                    "event",
                    models.ForeignKey(
                        db_column="event_seq",
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="youth_links",
                        to="audit.auditevent",
                        to_field="seq",
                    ),
                ),
            ],
            options={
                "verbose_name": "youth named by an audit event",
                "verbose_name_plural": "youth named by audit events",
                "indexes": [
                    models.Index(fields=["youth_id", "event"], name="audit_link_youth_idx")
                ],
            },
        ),
        migrations.RunPython(install_triggers, remove_triggers),
    ]
