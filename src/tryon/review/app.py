"""The review web app (Starlette): browse, decide, compare, gate vs people; files served confined.

Reads go through the catalogue's DuckDB views (`tryon.catalogue.views.connect`), the same ones
`tryon query` uses. Writes (decisions) need the start-up token, sent once as `?token=` and then
kept in a SameSite=Strict, HttpOnly cookie, plus a custom header a cross-site form cannot send.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
from pathlib import Path
from typing import Callable
from urllib.parse import quote

import pyarrow as pa
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from tryon.catalogue.store import Catalogue
from tryon.catalogue.views import connect
from tryon.errors import TryonError
from tryon.review import assets, pages
from tryon.review.browse import Filters, PairIndex
from tryon.review.compare import Side, compare
from tryon.review.confine import FileRoots, servable_file
from tryon.review.decisions import DecisionError, append_decisions, make_decisions
from tryon.review.gate import AGREEMENT_SQL, REJECT_REASONS_SQL, gate_vs_people

COOKIE = "tryon_review_token"
WRITE_HEADER = "x-tryon-review"
MAX_BODY_BYTES = 1_000_000
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; script-src 'self'; style-src 'self'; "
                               "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def create_app(catalogue_root: str | Path, *, run: str | None = None, token: str | None = None,
               reviewer: str = "reviewer", extra_hosts: tuple[str, ...] = ()) -> Starlette:
    """The ASGI app. `token=None` turns write authentication off (the CLI allows it on loopback only)."""
    catalogue = Catalogue(Path(catalogue_root))
    if not catalogue.exists():
        raise TryonError(f"{catalogue.root} is not a tryon catalogue (no runs/ folder); run `tryon run` first")
    if run:
        catalogue.run_record(run)  # an unknown run id stops here, listing the recent ones
    index = PairIndex(catalogue.root)
    files = FileRoots(catalogue)
    label = str(catalogue.root)

    def authorised(request: Request) -> bool:
        if token is None:
            return True
        offered = request.cookies.get(COOKIE) or request.headers.get("authorization", "").removeprefix("Bearer ")
        return bool(offered) and secrets.compare_digest(offered.encode(), token.encode())

    def page(handler: Callable[[Request], Response]):
        async def wrapped(request: Request) -> Response:
            offered = request.query_params.get("token")
            if offered is not None:  # log in once from the printed URL, then drop the token from the address
                if token is None or not secrets.compare_digest(offered.encode(), token.encode()):
                    return PlainTextResponse("wrong token", status_code=403)
                rest = "&".join(f"{quote(k)}={quote(v)}" for k, v in request.query_params.multi_items() if k != "token")
                redirect = RedirectResponse(request.url.path + ("?" + rest if rest else ""), status_code=303)
                redirect.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
                return redirect
            try:
                return await run_in_threadpool(handler, request)  # DuckDB work off the event loop
            except TryonError as error:
                return HTMLResponse(pages.layout("error", f"<p class='err'>{pages.e(error)}</p>", active="",
                                                 catalogue=label), status_code=400)
        return wrapped

    def browse(request: Request) -> Response:
        filters = Filters.from_params(request.query_params, default_run=run or "")
        result = index.page(filters)
        command = f"tryon rerun-failed --catalogue {catalogue.root} --include-rejected"
        return HTMLResponse(pages.browse_page(result, files.run_ids(), files.url, label, command, index.rejected_now()))

    def compare_view(request: Request) -> Response:
        params = request.query_params
        try:
            number = max(1, int(params.get("page", "1")))
        except ValueError:
            number = 1
        result = compare(catalogue.root, Side.parse(params.get("a", "")), Side.parse(params.get("b", "")),
                         sort=params.get("sort", ""), page=number)
        return HTMLResponse(pages.compare_page(result, files.url, label))

    def gate_view(request: Request) -> Response:
        examples = f"tryon query --catalogue {catalogue.root} \"{' '.join(AGREEMENT_SQL.split())}\"\n\n" \
                   f"tryon query --catalogue {catalogue.root} \"{' '.join(REJECT_REASONS_SQL.split())}\""
        return HTMLResponse(pages.gate_page(gate_vs_people(catalogue.root), label, examples))

    async def serve_file(request: Request) -> Response:
        root = files.roots().get(request.path_params["key"])
        found = (await run_in_threadpool(servable_file, root, request.path_params["path"])) if root is not None else None
        if found is None:
            return PlainTextResponse("not found", status_code=404)
        path, media_type = found
        return FileResponse(path, media_type=media_type)

    async def decide(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse({"error": "this app needs its start-up token: open the URL `tryon review` printed"},
                                status_code=403)
        if request.headers.get(WRITE_HEADER) != "1" or not request.headers.get("content-type", "").startswith("application/json"):
            return JSONResponse({"error": f"send JSON with the header {WRITE_HEADER}: 1"}, status_code=400)
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            return JSONResponse({"error": "request too large"}, status_code=413)
        try:
            payload = json.loads(raw)
            if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
                raise DecisionError("send {decision, reason, note, items: [{pair_id, run_id, output_sha256}]}")
            decisions = make_decisions(payload["items"], str(payload.get("decision")), payload.get("reason"),
                                       payload.get("note"), reviewer)
            await run_in_threadpool(_check_images_exist, catalogue.root, decisions)
        except (DecisionError, ValueError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        path = await run_in_threadpool(append_decisions, catalogue.root, decisions)
        return JSONResponse({"written": len(decisions), "file": path.name})

    def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name == "review.css":
            return Response(assets.STYLE, media_type="text/css")
        if name == "review.js":
            return Response(assets.SCRIPT, media_type="text/javascript")
        return PlainTextResponse("not found", status_code=404)

    async def not_found(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("not found", status_code=404)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        # Read the pairs while the reviewer opens the printed URL; the first page waits for it.
        threading.Thread(target=index.snapshot, args=(run or "",), name="tryon-review-warm", daemon=True).start()
        yield
        index.close()

    app = Starlette(
        lifespan=lifespan,
        routes=[
            Route("/", page(browse)),
            Route("/compare", page(compare_view)),
            Route("/gate", page(gate_view)),
            Route("/file/{key}/{path:path}", serve_file),
            Route("/static/{name}", static),
            Route("/api/decisions", decide, methods=["POST"]),
        ],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost", *extra_hosts])],
        exception_handlers={404: not_found},
    )
    app.add_middleware(_SecurityHeaders)
    return app


class _SecurityHeaders:
    """Adds CSP, nosniff and friends to every response (pure ASGI, so file responses stream)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.decode().lower() not in {name.lower() for name in SECURITY_HEADERS}]
                headers += [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _check_images_exist(root: Path, decisions: list) -> None:
    """Every decision must name an image the catalogue has for that pair and run."""
    asked = pa.table({"pair_id": [d.pair_id for d in decisions], "run_id": [d.run_id for d in decisions],
                      "output_sha256": [d.output_sha256 for d in decisions]})
    with connect(root) as connection:
        connection.register("asked", asked)
        missing = connection.execute(
            "SELECT a.pair_id, a.run_id FROM asked a WHERE NOT EXISTS (SELECT 1 FROM results r WHERE "
            "r.pair_id = a.pair_id AND r.run_id = a.run_id AND r.output_sha256 = a.output_sha256) LIMIT 5").fetchall()
    if missing:
        listed = ", ".join(f"{pair} in run {run_id}" for pair, run_id in missing)
        raise DecisionError(f"no such image in the catalogue: {listed}; reload the page (a newer run may have replaced it)")
