from django.db import migrations

GENESIS_HASH = "0" * 64


def create_head(apps, schema_editor):
    head_model = apps.get_model("audit", "AuditChainHead")
    head_model.objects.using(schema_editor.connection.alias).get_or_create(
        pk=1, defaults={"seq": 0, "hash": GENESIS_HASH}
    )


def install_triggers(apps, schema_editor):
    from safeharbor.audit import triggers

    triggers.install(schema_editor.connection, tables=[triggers.EVENTS])


def remove_triggers(apps, schema_editor):
    from safeharbor.audit import triggers

    triggers.remove(schema_editor.connection, tables=[triggers.EVENTS])


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_hash_chained_events")]

    operations = [
        migrations.RunPython(create_head, migrations.RunPython.noop),
        migrations.RunPython(install_triggers, remove_triggers),
    ]
