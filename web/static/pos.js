/*
 * pos.js: the point-of-sale demo's own few lines around htmx.
 *
 * htmx swaps the cart in place and boosts navigation; every page works
 * without it (and without this file). What htmx leaves to the page:
 *
 * - A refusal (403 expired form, 409 closed tab, 413 too large, 429,
 *   503 store down, any 4xx/5xx) is not swapped by htmx, so it would be
 *   dropped without a word. Here it is shown as a toast, with the
 *   message of the demo's error page (or the kit's plain-text answer).
 * - A request that never got an answer says so too.
 * - Messages of in-place changes (in the cart's note, or a toast on
 *   pages without a cart) fade after a few seconds; errors stay until
 *   the next change or a click.
 * - A product card's quantity goes back to 1 once its add has landed.
 *
 * It builds every toast with textContent: a message is never HTML.
 */
(function () {
  'use strict';

  var OK_TOAST_MS = 8000;
  var timer = null;

  function textOfHTML(html) {
    var doc = new DOMParser().parseFromString(html, 'text/html');
    var el = doc.querySelector('[data-testid="error-message"]');
    return el ? el.textContent.trim() : '';
  }

  // messageOf finds what a refusal says: the error page's message, a
  // JSON {"error": ...}, or the kit's plain "409 Conflict\nMessage".
  function messageOf(xhr) {
    var type = (xhr.getResponseHeader('Content-Type') || '').toLowerCase();
    var body = xhr.responseText || '';
    var text = '';
    if (type.indexOf('text/html') === 0) {
      text = textOfHTML(body);
    } else if (type.indexOf('application/json') === 0) {
      try { text = String(JSON.parse(body).error || ''); } catch (e) { text = ''; }
    } else if (body) {
      var lines = body.trim().split('\n');
      text = (lines.length > 1 ? lines.slice(1) : lines).join(' ').trim();
    }
    if (!text) text = 'The till refused that (' + xhr.status + ' ' + (xhr.statusText || 'error') + ').';
    if (xhr.status === 429 || xhr.status === 503) {
      var after = xhr.getResponseHeader('Retry-After');
      if (after && /^\d+$/.test(after)) text += ' Try again in ' + after + ' s.';
    }
    return text;
  }

  // messageBox is where a message goes: the cart's note on the register
  // page, else the page's toast.
  function messageBox() {
    return document.getElementById('cart-note') || document.getElementById('toasts');
  }

  function clearSoon(kind) {
    if (timer) clearTimeout(timer);
    timer = null;
    if (kind === 'error') return;
    timer = setTimeout(function () {
      var box = messageBox();
      if (box) box.replaceChildren();
    }, OK_TOAST_MS);
  }

  function toast(kind, text) {
    var box = messageBox();
    if (!box) return;
    var list = document.createElement('div');
    list.className = 'flashes';
    list.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    list.setAttribute('data-testid', 'flashes');
    var p = document.createElement('p');
    p.className = 'flash flash-' + kind;
    p.textContent = text;
    list.appendChild(p);
    box.replaceChildren(list);
    // One place shows messages at a time: the last page's flash goes.
    var area = document.getElementById('flash-area');
    if (area) area.replaceChildren();
    clearSoon(kind);
  }

  document.addEventListener('htmx:beforeSwap', function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status >= 400) {
      event.detail.shouldSwap = false;
      event.detail.isError = true;
      toast('error', messageOf(xhr));
    }
  });

  document.addEventListener('htmx:sendError', function () {
    toast('error', 'The till did not answer, so this change may not have been saved. Check the cart, then try again.');
  });

  document.addEventListener('htmx:timeout', function () {
    toast('error', 'The till took too long to answer. Check the cart, then try again.');
  });

  // A message that came in an answer fades like ours.
  document.addEventListener('htmx:afterSettle', function () {
    var box = messageBox();
    if (!box || !box.firstElementChild) return;
    clearSoon(box.querySelector('.flash-error') ? 'error' : 'ok');
  });

  document.addEventListener('htmx:afterRequest', function (event) {
    var elt = event.detail.elt;
    if (event.detail.successful && elt && elt.matches && elt.matches('form.product')) {
      elt.reset();
    }
  });

  document.addEventListener('click', function (event) {
    var box = event.target.closest && event.target.closest('#toasts, #cart-note');
    if (box) box.replaceChildren();
  });
})();
