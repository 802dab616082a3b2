"""The workbench web application (Starlette + Jinja2 templates, served by uvicorn on 127.0.0.1).

Every page needs a session; every form carries the session's CSRF token; the
supervisor-only pages (the unmasked transcript, the audit trail, accounts) answer
403 to a reviewer. Decisions go to the append-only trail and the night's reviewed
report and workbook are written again after each one.
"""
from __future__ import annotations

import json
import secrets
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from pipeline.labels import FACT_NAMES_ZH, FACT_VALUES, FACTS, FLAG_CODES, FLAG_NAMES_ZH, RISK_NAMES_ZH, SPEAKER_NAMES_ZH, VALUE_NAMES_ZH
from pipeline.outputs.files import restricted_path
from pipeline.outputs.privacy import mask_pii
from pipeline.review import auth, store
from pipeline.review.nights import Night, audio_file, build_queue, find_nights, load_summary, needs_review_facts
from pipeline.review.overlay import corrections_zh, write_reviewed_outputs
from pipeline.review.stats import agreement

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "hf_session"
LOGIN_CSRF_COOKIE = "hf_login_csrf"
MAX_TEXT = 2000  # longest reason or note kept
CONDUCT_NAMES_ZH = {"none": "无", "medium": "中", "high": "高"}
FLAG_VERDICTS_ZH = {"confirmed": "确认", "dismissed": "驳回", "added": "补充"}
KIND_NAMES_ZH = {"flag": "风险标记", "fact": "事实更正", "note": "备注", "status": "状态", "view_unmasked": "查看未脱敏转写"}


@dataclass
class Config:
    root: Path
    history: Path


class SecurityHeaders(BaseHTTPMiddleware):
    """Same-origin everything: no inline script, no framing, no referrer leaving the page."""

    async def dispatch(self, request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", "default-src 'self'; media-src 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cache-Control", "no-store")
        return response


def trail_text(kind: str, target: str, value: str | None) -> str:
    """A trail value as reviewers read it (the export keeps the codes)."""
    if value is None:
        return ""
    if kind == "flag":
        return {"raised": "机器提出", "not_raised": "机器未提出", **FLAG_VERDICTS_ZH}.get(value, value)
    if kind == "fact":
        return VALUE_NAMES_ZH.get(target, {}).get(value, value)
    return value


def trail_target(kind: str, target: str) -> str:
    return FLAG_NAMES_ZH.get(target, target) if kind == "flag" else FACT_NAMES_ZH.get(target, target) if kind == "fact" else target


def _templates() -> Jinja2Templates:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"], default=True))
    env.globals.update(FACT_NAMES_ZH=FACT_NAMES_ZH, FLAG_NAMES_ZH=FLAG_NAMES_ZH, RISK_NAMES_ZH=RISK_NAMES_ZH,
                       VALUE_NAMES_ZH=VALUE_NAMES_ZH, SPEAKER_NAMES_ZH=SPEAKER_NAMES_ZH, CONDUCT_NAMES_ZH=CONDUCT_NAMES_ZH,
                       FLAG_VERDICTS_ZH=FLAG_VERDICTS_ZH, KIND_NAMES_ZH=KIND_NAMES_ZH, FACTS=FACTS, FACT_VALUES=FACT_VALUES,
                       FLAG_CODES=FLAG_CODES, REVIEW_STATUSES=store.REVIEW_STATUSES,
                       trail_text=trail_text, trail_target=trail_target)
    return Jinja2Templates(env=env)


def create_app(root: Path, history: Path | None = None) -> Starlette:
    """The workbench over the output folders under ``root`` and the history database (default <root>/history.sqlite)."""
    config = Config(Path(root).resolve(), Path(history or Path(root) / "history.sqlite").resolve())
    templates = _templates()
    store.connect(config.history).close()  # create the review tables once, up front

    def db():
        return closing(store.connect(config.history))

    def nights() -> dict[str, Night]:
        return find_nights(config.root)

    def render(request: Request, name: str, context: dict, status_code: int = 200) -> Response:
        return templates.TemplateResponse(request, name, context, status_code=status_code)

    def user_of(request: Request, conn) -> tuple[auth.Reviewer, str]:
        found = auth.session_user(conn, request.cookies.get(SESSION_COOKIE))
        if found is None:
            raise HTTPException(401)
        return found

    def require_supervisor(reviewer: auth.Reviewer) -> None:
        if not reviewer.is_supervisor:
            raise HTTPException(403, "仅主管可访问")

    async def checked_form(request: Request, csrf: str):
        form = await request.form()
        if not auth.csrf_ok(csrf, form.get("csrf")):
            raise HTTPException(403, "表单校验失败（CSRF）")
        return form

    def night_and_call(name: str, call_id: str) -> tuple[Night, dict]:
        night = nights().get(name)
        summary = load_summary(night, call_id) if night else None
        if summary is None:
            raise HTTPException(404, "没有这通电话")
        return night, summary

    # --- login --------------------------------------------------------------------------

    async def login_page(request: Request) -> Response:
        token = secrets.token_urlsafe(32)
        response = render(request, "login.html", {"csrf": token, "error": request.query_params.get("error")})
        response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login")
        return response

    async def login(request: Request) -> Response:
        form = await request.form()
        if not auth.csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE), form.get("csrf")):
            raise HTTPException(403, "表单校验失败（CSRF）")
        with db() as conn:
            client = request.client.host if request.client else ""
            reviewer, why = auth.authenticate(conn, str(form.get("username", ""))[:64], str(form.get("password", "")), client)
            if reviewer is None:
                if why == "throttled":
                    return render(request, "login.html", {"csrf": form.get("csrf"), "error": "throttled"}, 429)
                return render(request, "login.html", {"csrf": form.get("csrf"), "error": "invalid"}, 401)
            token = auth.open_session(conn, reviewer.username)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", max_age=auth.SESSION_HOURS * 3600)
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return response

    async def logout(request: Request) -> Response:
        with db() as conn:
            _, csrf = user_of(request, conn)
            await checked_form(request, csrf)
            auth.close_session(conn, request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    # --- pages ----------------------------------------------------------------------------

    async def queue(request: Request) -> Response:
        with db() as conn:
            reviewer, csrf = user_of(request, conn)
            filters = {k: request.query_params.get(k, "") for k in ("night", "loan", "flag", "agent", "reviewer", "status")}
            if "status" not in request.query_params:
                filters["status"] = store.DEFAULT_STATUS  # the queue: calls still waiting for a decision
            all_nights = nights()
            reviews = store.current_reviews(conn)
            items = build_queue(all_nights, reviews, filters)
            everything = build_queue(all_nights, reviews, {})
            reviewers = [r.username for r in auth.list_reviewers(conn)]
        return render(request, "queue.html", {
            "user": reviewer, "csrf": csrf, "items": items, "filters": filters, "nights": list(all_nights),
            "agents": sorted({i.agent for i in everything if i.agent}), "reviewers": reviewers, "total": len(everything)})

    async def call_page(request: Request) -> Response:
        name, call_id = request.path_params["night"], request.path_params["call_id"]
        with db() as conn:
            reviewer, csrf = user_of(request, conn)
            night, summary = night_and_call(name, call_id)
            review = store.call_review(conn, name, call_id)
            trail = store.decisions(conn, night=name, call_id=call_id)
        has_restricted = restricted_path(night.out_dir, call_id).is_file()
        return render(request, "call.html", {
            "user": reviewer, "csrf": csrf, "night": name, "s": summary, "review": review, "trail": trail,
            "has_audio": audio_file(night, summary) is not None, "has_restricted": has_restricted,
            "needs_review": needs_review_facts(summary), "corrections": corrections_zh(summary, review),
            "saved": request.query_params.get("saved")})

    async def audio(request: Request) -> Response:
        with db() as conn:
            user_of(request, conn)
        night, summary = night_and_call(request.path_params["night"], request.path_params["call_id"])
        path = audio_file(night, summary)
        if path is None:
            raise HTTPException(404, "录音不在批次目录中")
        return FileResponse(path)

    def _utterance(summary: dict, index: str | None) -> dict | None:
        """The transcript utterance a reviewer pointed at, with the agent's question before it as context."""
        try:
            i = int(index or "")
        except ValueError:
            return None
        transcript = summary.get("transcript") or []
        if not 0 <= i < len(transcript):
            return None
        utt = transcript[i]
        context = next((transcript[j].get("text", "") for j in range(i - 1, -1, -1) if transcript[j].get("speaker") == "agent"), "")
        return {"index": i, "start": utt.get("start"), "end": utt.get("end"), "speaker": utt.get("speaker"),
                "text": utt.get("text", ""), "context": context if utt.get("speaker") != "agent" else ""}

    async def decide(request: Request) -> Response:
        name, call_id, what = request.path_params["night"], request.path_params["call_id"], request.path_params["what"]
        with db() as conn:
            reviewer, csrf = user_of(request, conn)
            form = await checked_form(request, csrf)
            night, summary = night_and_call(name, call_id)
            reason = mask_pii(str(form.get("reason", "")).strip())[:MAX_TEXT]
            base = {"reviewer": reviewer.username, "night": name, "call_id": call_id}
            review = store.call_review(conn, name, call_id)
            if what == "flag":
                code, verdict = str(form.get("code", "")), str(form.get("verdict", ""))
                raised = {f.get("code") for f in summary.get("flags") or []}
                if code not in FLAG_CODES or verdict not in (("confirmed", "dismissed") if code in raised else ("added",)):
                    raise HTTPException(400, "无效的标记操作")
                if verdict != "confirmed" and not reason:
                    raise HTTPException(400, "驳回或补充标记须填写理由")
                before = review.flags.get(code).after if code in review.flags else ("raised" if code in raised else "not_raised")
                store.record_decision(conn, kind="flag", target=code, before=before, after=verdict, reason=reason, **base)
            elif what == "fact":
                fact, value = str(form.get("fact", "")), str(form.get("value", ""))
                if fact not in FACTS or value not in FACT_VALUES[fact]:
                    raise HTTPException(400, "无效的事实或取值")
                evidence = _utterance(summary, form.get("evidence"))
                if evidence is None and value != "not_mentioned":
                    raise HTTPException(400, "请指出证据所在的话语")
                machine = ((summary.get("facts") or {}).get(fact) or {}).get("value")
                before = review.facts[fact].after if fact in review.facts else machine
                store.record_decision(conn, kind="fact", target=fact, before=before, after=value, reason=reason,
                                      evidence=evidence, **base)
            elif what == "note":
                note = mask_pii(str(form.get("note", "")).strip())[:MAX_TEXT]
                if not note:
                    raise HTTPException(400, "备注为空")
                store.record_decision(conn, kind="note", after=note, **base)
            elif what == "status":
                status = str(form.get("status", ""))
                if status not in store.REVIEW_STATUSES:
                    raise HTTPException(400, "无效的状态")
                store.record_decision(conn, kind="status", before=review.status, after=status, reason=reason, **base)
            else:
                raise HTTPException(404)
            write_reviewed_outputs(conn, night)
        return RedirectResponse(f"/call/{name}/{call_id}?saved={what}", status_code=303)

    async def unmasked(request: Request) -> Response:
        name, call_id = request.path_params["night"], request.path_params["call_id"]
        with db() as conn:
            reviewer, csrf = user_of(request, conn)
            require_supervisor(reviewer)
            night, summary = night_and_call(name, call_id)
            path = restricted_path(night.out_dir, call_id)
            try:
                restricted = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                raise HTTPException(404, "本次运行未保留未脱敏转写（--keep-raw-transcript）") from None
            store.record_decision(conn, reviewer=reviewer.username, night=name, call_id=call_id, kind="view_unmasked",
                                  reason="主管查看未脱敏转写")
        return render(request, "unmasked.html", {"user": reviewer, "csrf": csrf, "night": name, "s": summary,
                                                 "transcript": restricted.get("transcript") or []})

    async def audit_page(request: Request) -> Response:
        with db() as conn:
            reviewer, csrf = user_of(request, conn)
            require_supervisor(reviewer)
            trail = store.decisions(conn)
        return render(request, "audit.html", {"user": reviewer, "csrf": csrf, "trail": list(reversed(trail))})

    async def stats_page(request: Request) -> Response:
        with db() as conn:
            reviewer, csrf = user_of(request, conn)
            per_night, overall = agreement(conn, nights())
        return render(request, "stats.html", {"user": reviewer, "csrf": csrf, "per_night": per_night, "overall": overall})

    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 401:
            return RedirectResponse("/login", status_code=303)
        return render(request, "error.html", {"status": exc.status_code, "detail": exc.detail, "user": None}, exc.status_code)

    routes = [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", queue),
        Route("/stats", stats_page),
        Route("/audit", audit_page),
        Route("/call/{night}/{call_id}", call_page),
        Route("/call/{night}/{call_id}/unmasked", unmasked),
        Route("/call/{night}/{call_id}/{what}", decide, methods=["POST"]),
        Route("/audio/{night}/{call_id}", audio),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)], exception_handlers={HTTPException: http_error})
    app.state.config = config
    return app


def refresh_reviewed_outputs(root: Path, history: Path) -> list[Path]:
    """Write every night's reviewed report and workbook (at start-up, so they match the trail)."""
    written = []
    with closing(store.connect(history)) as conn:
        for night in find_nights(root).values():
            written.extend(write_reviewed_outputs(conn, night))
    return written
