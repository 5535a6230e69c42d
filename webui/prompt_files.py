"""Where prompt overrides live (<data_dir>/prompts/<service>/<lang>/<name>.wav) and how an upload
becomes one: name checks first, then sox normalisation and level checks in the media adapter.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from appliance.adapters.media.prompts import UploadInfo, normalise_upload

PROMPT_NAME = re.compile(r"[a-z0-9_]{1,64}")
LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")
ALLOWED_SUFFIXES = (".wav", ".mp3", ".ogg")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class UploadRefused(ValueError):
    """The upload is not acceptable; the text is shown to the admin."""


@dataclass(frozen=True)
class PromptRow:
    name: str
    custom: bool
    text: str = ""  # what the shipped prompt says (sounds/prompts.tsv)


_TSV_COLUMNS = {"es": 1, "en": 2}


def shipped_texts(sounds_dir: Path, lang: str) -> dict[str, str]:
    """Prompt name -> its text in `lang`, from the table the default set is generated from."""
    column = _TSV_COLUMNS.get(lang.split("-")[0])
    table = sounds_dir / "prompts.tsv"
    if column is None or not table.is_file():
        return {}
    texts = {}
    for line in table.read_text(encoding="utf-8").splitlines():
        cells = line.split("\t")
        if line.startswith("#") or len(cells) <= column or cells[column].startswith("@"):
            continue
        texts[cells[0]] = cells[column]
    return texts


def check_names(lang: str, name: str) -> None:
    if not LANGUAGE.fullmatch(lang) or not PROMPT_NAME.fullmatch(name):
        raise UploadRefused("unknown prompt or language")


def check_filename(filename: str | None) -> str:
    """The uploaded file's suffix; refuses paths and types we cannot convert."""
    name = (filename or "").strip()
    if not name:
        raise UploadRefused("Choose a file to upload.")
    if "/" in name or "\\" in name or name.startswith(".") or ".." in name or "\0" in name:
        raise UploadRefused("The file name must not contain a path.")
    suffix = Path(name).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise UploadRefused("Upload a WAV, MP3 or OGG file.")
    return suffix


def override_path(prompts_dir: Path, service: str, lang: str, name: str) -> Path:
    check_names(lang, name)
    return prompts_dir / service / lang / f"{name}.wav"


def resolve(prompts_dir: Path | None, sounds_dir: Path, service: str, lang: str,
            name: str) -> Path | None:
    """The file a caller would hear: the service's override, else the shipped prompt."""
    check_names(lang, name)
    candidates = [sounds_dir / lang / f"{name}.wav"]
    if prompts_dir is not None:
        candidates.insert(0, override_path(prompts_dir, service, lang, name))
    return next((p for p in candidates if p.is_file()), None)


def list_prompts(prompts_dir: Path | None, sounds_dir: Path, service: str,
                 lang: str) -> list[PromptRow]:
    shipped = {p.stem for p in (sounds_dir / lang).glob("*.wav")}
    custom: set[str] = set()
    if prompts_dir is not None:
        custom = {p.stem for p in (prompts_dir / service / lang).glob("*.wav")}
    texts = shipped_texts(sounds_dir, lang)
    return [PromptRow(n, n in custom, texts.get(n, "")) for n in sorted(shipped | custom)]


def save_upload(source: BinaryIO, filename: str | None, target: Path) -> UploadInfo:
    """Copy the upload to a temp file (bounded size), then convert it into `target`."""
    suffix = check_filename(filename)
    with tempfile.TemporaryDirectory(prefix="desborde-web-") as tmp:
        raw = Path(tmp) / f"upload{suffix}"
        with raw.open("wb") as out:
            shutil.copyfileobj(source, out, length=1 << 16)
        if raw.stat().st_size > MAX_UPLOAD_BYTES:
            raise UploadRefused("The file is larger than 20 MB.")
        if raw.stat().st_size == 0:
            raise UploadRefused("The file is empty.")
        return normalise_upload(raw, target)
