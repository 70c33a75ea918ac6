import pytest
from django.core.files.storage import FileSystemStorage

from replays.models import Replay


@pytest.fixture
def places(settings, tmp_path, monkeypatch):
    """Recordings and replays in the test's own folders (the file fields hold their storage
    from the start)."""
    settings.RECORDINGS_DIR = tmp_path / "recordings"
    storage = FileSystemStorage(location=tmp_path / "replays")
    for name in ("audio_ogg", "audio_m4a"):
        monkeypatch.setattr(Replay._meta.get_field(name), "storage", storage)
    return tmp_path
