"""The review app in a real headless chromium: page, filter, approve and reject with the keyboard,
reload, find the decisions with `tryon query`; hostile paths and pair ids do nothing; compare."""

from __future__ import annotations

import http.client
import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image

from flows.cli import main as tryon_main
from tryon.review.server import start_in_thread

from tests.review.conftest import HOSTILE_PAIR_ID
from tests.review.devtools import CHROMIUM, Browser

DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "review.png"
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (.ci/run installs it)")


@pytest.fixture(scope="module")
def app(review_catalogue):
    catalogue, runs = review_catalogue
    server = start_in_thread(catalogue, reviewer="tester")
    yield server, catalogue, runs
    server.stop()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _raw_get(url: str, path: str) -> tuple[int, bytes]:
    """GET exactly `path` (no client-side normalisation of `..` or %2e)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.putrequest("GET", path, skip_accept_encoding=True)
    connection.endheaders()
    answer = connection.getresponse()
    return answer.status, answer.read()


def _cards(browser: Browser) -> list[dict]:
    return browser.evaluate("Array.from(document.querySelectorAll('#cards .card')).map(c => ({pair: c.dataset.pair,"
                            " decision: c.dataset.decision, text: c.querySelector('.pid').textContent}))")


@pytest.mark.slow  # ~15 s with the browser on an idle machine, 40 s on a busy one
def test_review_in_a_real_browser(app, tmp_path, capsys):
    server, catalogue, (first_run, second_run) = app
    origin = _origin(server.url)
    with Browser(tmp_path / "profile") as browser:
        browser.open(server.url)  # ?token=… logs in (cookie) and redirects to the plain address
        assert browser.evaluate("location.search") == ""
        assert browser.evaluate("document.body.dataset.errors") == "0"
        assert browser.evaluate("document.body.dataset.cards") == "6"  # five sample pairs + the hostile one

        # Paging: two per page, three pages, every pair exactly once.
        browser.open(f"{origin}/?size=2&sort=pair_id")
        seen = [card["pair"] for card in _cards(browser)]
        browser.press("n")
        browser.wait_for("document.body.dataset.ready === 'yes' && location.search.includes('page=2')")
        seen += [card["pair"] for card in _cards(browser)]
        browser.press("n")
        browser.wait_for("document.body.dataset.ready === 'yes' && location.search.includes('page=3')")
        seen += [card["pair"] for card in _cards(browser)]
        assert sorted(seen) == sorted([HOSTILE_PAIR_ID, "p001", "p002", "p003", "p004", "p005"])

        # Filtering through the form.
        browser.evaluate("document.getElementById('f-status').value = 'failed'; document.getElementById('apply').click()")
        browser.wait_for("document.body.dataset.ready === 'yes' && location.search.includes('status=failed')")
        assert [card["pair"] for card in _cards(browser)] == ["p005"]

        # Decide with the keyboard: approve p001, move down past p002, reject p003 (reason 2 + Enter).
        browser.open(f"{origin}/?status=succeeded&pair=p00&sort=pair_id")
        assert [card["pair"] for card in _cards(browser)] == ["p001", "p002", "p003", "p004"]
        browser.press("a")
        browser.wait_for("document.body.dataset.saved === '1'")
        assert browser.evaluate("document.body.dataset.current") == "p002"
        browser.press("ArrowDown")
        browser.press("r")
        browser.wait_for("!document.getElementById('reject-dialog').hidden")
        browser.press("2")
        browser.press("Enter")
        browser.wait_for("document.body.dataset.saved === '2'")

        browser.reload()  # the decisions come back from the catalogue, not from the page's memory
        decisions = {card["pair"]: card["decision"] for card in _cards(browser)}
        assert decisions == {"p001": "approved", "p002": "", "p003": "rejected", "p004": ""}
        assert browser.evaluate("document.getElementById('rejected-now').textContent") == "1"
        assert "--include-rejected" in browser.evaluate("document.getElementById('rerun-command').textContent")
        browser.open(f"{origin}/?decision=rejected")
        assert [card["pair"] for card in _cards(browser)] == ["p003"]

        # A selection (x, move, x) decided at once, on the first run's images.
        browser.open(f"{origin}/?run={first_run}&status=succeeded&pair=p00&sort=pair_id")
        browser.press("x")
        browser.press("ArrowDown")
        browser.press("x")
        browser.press("a")
        browser.wait_for("document.body.dataset.saved === '2'")
        browser.reload()
        assert [card["decision"] for card in _cards(browser)] == ["approved", "approved", "", ""]

        # A pair id made of HTML is shown as text and runs nothing.
        browser.open(f"{origin}/?sort=pair_id")
        hostile = [card for card in _cards(browser) if card["pair"] == HOSTILE_PAIR_ID]
        assert hostile and hostile[0]["text"] == HOSTILE_PAIR_ID
        assert browser.evaluate("typeof window.__pwned") == "undefined"
        assert browser.evaluate("document.querySelectorAll('script').length") == 1
        assert browser.evaluate("document.body.dataset.errors") == "0"
        browser.evaluate("document.querySelector('#cards .card img[alt=\"result\"]').click()")
        browser.wait_for("!document.getElementById('lightbox').hidden")
        assert browser.evaluate("document.getElementById('lightbox-img').naturalWidth > 0 || "
                                "new Promise(r => document.getElementById('lightbox-img').onload = () => r(true))")
        browser.press("Escape")

        # A traversal request gets 404 in the browser too.
        browser.send("Page.navigate", url=f"{origin}/file/c/..%2f..%2f..%2fetc%2fpasswd")
        browser.wait_for("document.readyState === 'complete' && document.body.innerText.includes('not found')")

        # Compare: the two runs side by side, with deltas.
        browser.open(f"{origin}/compare")
        assert browser.evaluate("document.getElementById('side-a').textContent") == f"run:{first_run}"
        assert browser.evaluate("document.getElementById('side-b').textContent") == f"run:{second_run}"
        assert browser.evaluate("document.getElementById('common').textContent") == "6"
        assert browser.evaluate("document.querySelectorAll('#compare-rows .card').length") == 6
        assert browser.evaluate("document.querySelectorAll('table.deltas tr').length") > 3

        browser.open(f"{origin}/gate")
        assert "approved" in browser.evaluate("document.getElementById('agreement').innerText")

        browser.open(f"{origin}/?status=succeeded&pair=p00&sort=pair_id")
        browser.send("Emulation.setDeviceMetricsOverride", width=1100, height=860, deviceScaleFactor=1, mobile=False)
        shot = browser.screenshot(tmp_path / "review.png")
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels.shape[:2] == (860, 1100) and pixels.std() > 20
    if os.environ.get("TRYON_DOCS_SCREENSHOT"):  # refresh the README's screenshot
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        Image.open(shot).convert("RGB").quantize(colors=64).save(DOCS_SCREENSHOT, optimize=True)

    # Both decisions, as `tryon query` sees them.
    capsys.readouterr()
    assert tryon_main(["query", "--catalogue", str(catalogue), "--format", "json",
                       "SELECT pair_id, run_id, decision, reason, reviewer FROM latest_review ORDER BY pair_id"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert rows == [
        {"pair_id": "p001", "run_id": second_run, "decision": "approved", "reason": None, "reviewer": "tester"},
        {"pair_id": "p003", "run_id": second_run, "decision": "rejected", "reason": "garment_distorted", "reviewer": "tester"},
    ]


def test_crafted_paths_get_404(app, tmp_path):
    server, catalogue, _ = app
    legit = next((catalogue / "images" / "outputs").rglob("*.png"))
    outside = tmp_path / "secret.png"
    Image.new("RGB", (8, 8), (255, 0, 0)).save(outside)
    (catalogue / "images" / "outputs" / "link-out.png").symlink_to(outside)
    run_file = next((catalogue / "runs").glob("run-*.parquet")).name
    legit_url = "/file/c/" + legit.relative_to(catalogue).as_posix()
    assert _raw_get(server.url, legit_url)[0] == 200
    for path in ["/file/c/../runs/" + run_file, "/file/c/images/../../" + catalogue.name + "/runs/" + run_file,
                 "/file/c/%2e%2e/%2e%2e/etc/passwd", "/file/c/..%2f..%2f..%2fetc%2fpasswd", "/file/c//etc/passwd",
                 "/file/c/%2Fetc%2Fpasswd", "/file/d0/../../../../etc/passwd", "/file/d0/%2e%2e%2fmanifest.parquet",
                 "/file/c/runs/" + run_file, "/file/c/images/outputs/link-out.png", "/file/zz/etc/passwd",
                 "/file/c/" + str(outside).lstrip("/"), "/file/c/images%00.png", legit_url + "%2500"]:
        status, body = _raw_get(server.url, path)
        assert status == 404, (path, status)
        assert b"root:" not in body and b"PAR1" not in body


def test_writes_need_the_token(app):
    server, catalogue, (_, second_run) = app
    parts = urlsplit(server.url)
    body = json.dumps({"decision": "approved", "items": [{"pair_id": "p002", "run_id": second_run,
                                                          "output_sha256": "0" * 64}]})
    for headers in ({"Content-Type": "application/json", "X-Tryon-Review": "1"},
                    {"Content-Type": "application/json", "X-Tryon-Review": "1", "Authorization": "Bearer wrong"}):
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        connection.request("POST", "/api/decisions", body=body, headers=headers)
        assert connection.getresponse().status == 403
    # With the token but without the custom header (what a cross-site form could send): refused.
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("POST", "/api/decisions", body=body,
                       headers={"Content-Type": "text/plain", "Cookie": f"tryon_review_token={server.token}"})
    assert connection.getresponse().status == 400
    # A DNS-rebinding page (another Host) is refused outright.
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("GET", "/", headers={"Host": "evil.example"})
    assert connection.getresponse().status == 400
    assert not list((catalogue / "reviews").glob("*.parquet")) or all(
        "0" * 64 not in path.read_bytes().decode("latin-1") for path in (catalogue / "reviews").glob("*.parquet"))
