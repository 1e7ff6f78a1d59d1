"""Back the database up now (the nightly beat job does the same)."""

from django.core.management.base import BaseCommand, CommandError

from org.backups import BackupError, backup_create, backups_prune


class Command(BaseCommand):
    help = "Write a backup into SSP_BACKUP_DIR and remove those older than SSP_BACKUP_KEEP_DAYS."

    def add_arguments(self, parser):
        parser.add_argument("--dir", help="Write here instead of SSP_BACKUP_DIR.")
        parser.add_argument("--no-prune", action="store_true", help="Keep every older backup.")

    def handle(self, *args, dir=None, no_prune=False, **options):
        try:
            path = backup_create(directory=dir)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Backup written: {path} ({path.stat().st_size:,} bytes)")
        if not no_prune:
            for old in backups_prune(directory=dir):
                self.stdout.write(f"Removed {old.name} (older than SSP_BACKUP_KEEP_DAYS)")
