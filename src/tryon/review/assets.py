"""The app's one stylesheet and one script, served from /static/ (the page's CSP allows no inline code)."""

STYLE = """
body{font:14px system-ui,sans-serif;margin:0;color:#222}
header{background:#223;color:#fff;padding:8px 16px;display:flex;gap:16px;align-items:center}
header a{color:#cde;margin-right:12px;text-decoration:none} header a.on{color:#fff;font-weight:bold}
header .cat{margin-left:auto;font-size:12px;color:#aab}
main{padding:12px 16px}
.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin-bottom:8px}
.summary,.pager,.help{margin:6px 0} .help{font-size:12px;color:#555}
kbd{border:1px solid #bbb;border-radius:3px;padding:0 3px;font-size:11px}
.card{border:1px solid #ddd;border-radius:6px;margin:8px 0;padding:8px;display:flex;gap:10px;align-items:flex-start}
.card.failed{border-color:#d33;background:#fff6f6} .card.flagged{border-color:#e0a000;background:#fffbea}
.card.current{outline:3px solid #36f} .card.picked{box-shadow:0 0 0 3px #9c6 inset}
.imgs{display:flex;gap:6px} figure{margin:0;text-align:center;font-size:11px;color:#666}
.imgs img,.imgs .none{width:150px;height:150px;object-fit:contain;background:#f3f3f3;display:block;cursor:zoom-in}
.imgs .none{line-height:150px;color:#aaa;cursor:default}
.meta{font-size:12px} .meta td,.meta th{padding:0 8px 0 0;text-align:left} .err{color:#b00;max-width:520px}
.reasons{color:#8a6100}
.badge{padding:1px 6px;border-radius:8px;font-size:12px} .badge.approved{background:#cfc}
.badge.rejected{background:#fcc} .badge.unreviewed{background:#eee}
#reject-dialog{position:fixed;bottom:16px;left:16px;right:16px;background:#fff;border:2px solid #c33;padding:10px}
#lightbox{position:fixed;inset:0;background:rgba(0,0,0,.85);display:flex;align-items:center;justify-content:center}
#lightbox[hidden],#reject-dialog[hidden]{display:none} #lightbox img{max-width:95vw;max-height:95vh}
.act{margin-top:16px;padding:8px;background:#f4f4f8} pre{background:#f4f4f8;padding:8px;overflow:auto}
table.deltas{border-collapse:collapse} table.deltas td,table.deltas th{border:1px solid #ddd;padding:2px 8px}
#message{font-weight:bold}
"""

SCRIPT = r"""
'use strict';
window.__errors = [];
window.addEventListener('error', function (event) { window.__errors.push(String(event.message)); });
document.addEventListener('DOMContentLoaded', function () {
  var body = document.body;
  var cards = Array.prototype.slice.call(document.querySelectorAll('#cards .card'));
  var dialog = document.getElementById('reject-dialog');
  var lightbox = document.getElementById('lightbox');
  var current = 0;
  var pendingTargets = [];

  function say(text) { var m = document.getElementById('message'); if (m) { m.textContent = text; } }
  function focusCard(index) {
    if (!cards.length) { return; }
    current = Math.max(0, Math.min(cards.length - 1, index));
    cards.forEach(function (card, i) { card.classList.toggle('current', i === current); });
    cards[current].scrollIntoView({block: 'nearest'});
    body.dataset.current = cards[current].dataset.pair;
  }
  function picked() { return cards.filter(function (card) { return card.querySelector('.pick').checked; }); }
  function targets() {
    var chosen = picked();
    if (!chosen.length && cards.length) { chosen = [cards[current]]; }
    return chosen.filter(function (card) { return card.dataset.decidable === 'yes'; });
  }
  function showDecision(card, decision, reasonLabel, note) {
    card.dataset.decision = decision;
    var box = card.querySelector('.decision');
    box.textContent = '';
    var badge = document.createElement('span');
    badge.className = 'badge ' + decision;
    badge.textContent = decision + (reasonLabel ? ': ' + reasonLabel : '') + (note ? ' — ' + note : '');
    box.appendChild(badge);
  }
  function decide(decision, chosen, reason, note) {
    if (!chosen.length) { say('nothing to decide here (failed pairs have no image)'); return; }
    var items = chosen.map(function (card) {
      return {pair_id: card.dataset.pair, run_id: card.dataset.run, output_sha256: card.dataset.sha};
    });
    body.dataset.writing = 'yes';
    fetch('/api/decisions', {
      method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'X-Tryon-Review': '1'},
      body: JSON.stringify({decision: decision, reason: reason || null, note: note || null, items: items})
    }).then(function (response) {
      return response.json().then(function (answer) { return {ok: response.ok, answer: answer}; });
    }).then(function (result) {
      body.dataset.writing = 'no';
      if (!result.ok) { say('not saved: ' + (result.answer.error || 'error')); body.dataset.lastError = result.answer.error || 'error'; return; }
      var label = reason ? document.querySelector('#reject-reason option[value="' + reason + '"]').textContent : '';
      chosen.forEach(function (card) { showDecision(card, decision, label, note); card.querySelector('.pick').checked = false; card.classList.remove('picked'); });
      body.dataset.saved = String(Number(body.dataset.saved || 0) + result.answer.written);
      say(decision + ': ' + result.answer.written + ' saved');
      focusCard(cards.indexOf(chosen[chosen.length - 1]) + 1);
    }).catch(function (error) { body.dataset.writing = 'no'; say('not saved: ' + error); });
  }
  function openReject() {
    pendingTargets = targets();
    if (!pendingTargets.length) { say('nothing to reject here'); return; }
    dialog.hidden = false;
    document.getElementById('reject-reason').focus();
  }
  function closeReject() { dialog.hidden = true; if (cards.length) { cards[current].focus(); } }
  function confirmReject() {
    var reason = document.getElementById('reject-reason').value;
    var note = document.getElementById('reject-note').value;
    closeReject();
    document.getElementById('reject-note').value = '';
    decide('rejected', pendingTargets, reason, note);
  }
  function showFull(url) { if (!url) { return; } document.getElementById('lightbox-img').src = url; lightbox.hidden = false; }

  cards.forEach(function (card, index) {
    card.addEventListener('click', function (event) {
      if (event.target.tagName === 'IMG') { showFull(event.target.dataset.full); }
      focusCard(index);
    });
    card.querySelector('.pick').addEventListener('change', function (event) { card.classList.toggle('picked', event.target.checked); });
  });
  if (lightbox) { lightbox.addEventListener('click', function () { lightbox.hidden = true; }); }
  var approveButton = document.getElementById('approve-selected');
  if (approveButton) { approveButton.addEventListener('click', function () { decide('approved', targets()); }); }
  var rejectButton = document.getElementById('reject-selected');
  if (rejectButton) { rejectButton.addEventListener('click', openReject); }
  if (dialog) {
    document.getElementById('reject-confirm').addEventListener('click', confirmReject);
    document.getElementById('reject-cancel').addEventListener('click', closeReject);
  }

  document.addEventListener('keydown', function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (dialog && !dialog.hidden) {
      var select = document.getElementById('reject-reason');
      if (event.key === 'Escape') { event.preventDefault(); closeReject(); }
      else if (event.key === 'Enter') { event.preventDefault(); confirmReject(); }
      else if (/^[1-9]$/.test(event.key) && document.activeElement !== document.getElementById('reject-note')) {
        var option = select.options[Number(event.key) - 1];
        if (option) { event.preventDefault(); select.value = option.value; }
      }
      return;
    }
    if (lightbox && !lightbox.hidden) { if (event.key === 'Escape' || event.key === 'Enter') { event.preventDefault(); lightbox.hidden = true; } return; }
    var tag = (event.target.tagName || '').toLowerCase();
    if (tag === 'input' && event.target.type !== 'checkbox' || tag === 'select' || tag === 'textarea') { return; }
    var link;
    switch (event.key) {
      case 'ArrowDown': case 'ArrowRight': case 'j': event.preventDefault(); focusCard(current + 1); break;
      case 'ArrowUp': case 'ArrowLeft': case 'k': event.preventDefault(); focusCard(current - 1); break;
      case 'a': event.preventDefault(); decide('approved', targets()); break;
      case 'r': event.preventDefault(); openReject(); break;
      case 'x': case ' ':
        if (cards.length) { event.preventDefault(); var box = cards[current].querySelector('.pick'); box.checked = !box.checked; cards[current].classList.toggle('picked', box.checked); }
        break;
      case 'Enter':
        if (cards.length) { event.preventDefault(); var img = cards[current].querySelector('img[alt="result"]'); showFull(img && img.dataset.full); }
        break;
      case 'n': link = document.getElementById('next'); if (link) { window.location = link.href; } break;
      case 'p': link = document.getElementById('prev'); if (link) { window.location = link.href; } break;
    }
  });
  focusCard(0);
  body.dataset.cards = String(cards.length);
  body.dataset.errors = String(window.__errors.length);
  body.dataset.ready = 'yes';
});
"""
