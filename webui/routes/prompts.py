"""Prompts per service and language: list, preview, upload (converted and level-checked), reset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from appliance.domain.records import User
from appliance.domain.service_profile import ServiceProfile
from appliance.errors import MediaError
from appliance.services.admin import audit
from webui.deps import AdminDep, CatalogDep, ContextDep, CsrfCheck, NowDep, StoreDep, UserDep
from webui.errors import NotFound
from webui.prompt_files import (
    UploadRefused,
    list_prompts,
    override_path,
    resolve,
    save_upload,
)
from webui.rendering import render
from webui.routes.services import get_profile

router = APIRouter(tags=["prompts"], dependencies=[CsrfCheck])
FormStr = Annotated[str, Form()]


def _page(request: Request, user: User, context: ContextDep, profile: ServiceProfile,
          lang: str, status: int = 200, **extra: object) -> HTMLResponse:
    if lang not in profile.plans:
        lang = profile.default_language
    rows = list_prompts(context.prompts_dir, context.sounds_dir, profile.name, lang)
    return render(request, "prompts.html", user=user, status_code=status, profile=profile, prompt_lang=lang,
                  rows=rows, uploads_enabled=context.prompts_dir is not None, **extra)


@router.get("/services/{name}/prompts", response_class=HTMLResponse)
def prompts_page(request: Request, name: str, user: AdminDep, catalog: CatalogDep,
                 context: ContextDep, lang: str = "", saved: str = "") -> HTMLResponse:
    profile = get_profile(catalog, name)
    return _page(request, user, context, profile, lang or profile.default_language,
                 notice="Prompt saved." if saved else None, saved=saved)


@router.get("/services/{name}/prompts/{lang}/{prompt}.wav")
def prompt_audio(name: str, lang: str, prompt: str, user: UserDep, catalog: CatalogDep,
                 context: ContextDep) -> FileResponse:
    get_profile(catalog, name)
    try:
        path = resolve(context.prompts_dir, context.sounds_dir, name, lang, prompt)
    except UploadRefused:
        path = None
    if path is None:
        raise NotFound()
    return FileResponse(path, media_type="audio/wav", headers={"Cache-Control": "no-store"})


@router.post("/services/{name}/prompts", response_model=None)
def upload_prompt(
    request: Request, name: str, user: AdminDep, store: StoreDep, catalog: CatalogDep,
    context: ContextDep, now: NowDep, lang: FormStr, prompt: FormStr,
    audio: Annotated[UploadFile, File()],
) -> Response:
    profile = get_profile(catalog, name)
    if context.prompts_dir is None or lang not in profile.plans:
        raise NotFound()
    try:
        target = override_path(context.prompts_dir, name, lang, prompt)
        info = save_upload(audio.file, audio.filename, target)
    except (UploadRefused, MediaError) as exc:
        return _page(request, user, context, profile, lang, status=400, error=str(exc))
    audit(store, actor=user.username, action="prompt.upload", target=f"{name}/{lang}/{prompt}",
          now=now, after={"seconds": info.seconds, "peak_dbfs": info.peak_dbfs,
                          "file": Path(audio.filename or "").name})
    return RedirectResponse(f"/services/{name}/prompts?lang={lang}&saved={prompt}", status_code=303)


@router.post("/services/{name}/prompts/{lang}/{prompt}/reset")
def reset_prompt(name: str, lang: str, prompt: str, user: AdminDep, store: StoreDep,
                 catalog: CatalogDep, context: ContextDep, now: NowDep) -> RedirectResponse:
    get_profile(catalog, name)
    if context.prompts_dir is None:
        raise NotFound()
    try:
        path = override_path(context.prompts_dir, name, lang, prompt)
    except UploadRefused:
        raise NotFound() from None
    if path.is_file():
        path.unlink()
        audit(store, actor=user.username, action="prompt.reset",
              target=f"{name}/{lang}/{prompt}", now=now)
    return RedirectResponse(f"/services/{name}/prompts?lang={lang}", status_code=303)
