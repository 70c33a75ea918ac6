"""A management command that writes generated files, or with `--check` only says whether
they are up to date (CI runs the check, so a declaration changed without its page fails)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


class GeneratedFilesCommand(BaseCommand):
    """Subclasses name the files and what each must hold (`generated()`)."""

    def generated(self) -> dict[Path, str]:
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Only check that the files are up to date."
        )

    def handle(self, *args, check: bool = False, **options):
        command = self.__module__.rsplit(".", 1)[-1]
        for path, text in self.generated().items():
            if check:
                if not path.exists() or path.read_text() != text:
                    raise CommandError(f"{path} is out of date: run `manage.py {command}`.")
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            self.stdout.write(f"Wrote {path}.")
