/*
 * tabs.js: gives a duplicated browser tab a tabkit tab of its own.
 *
 * A tabkit page lives at /N/...; the number N selects the tab's data in
 * the session. "Duplicate tab", Ctrl+click and a pasted URL all open a
 * second browser tab on the same N, and the two would then share one
 * cart. This script notices that and asks the server to fork: a new tab
 * number with a copy of the tab's data. Without it (or without
 * JavaScript) everything still works; the copies just keep sharing.
 *
 * How a copy is noticed: every page says "hello" on a BroadcastChannel
 * when it loads. A live page already holding N answers "taken", and the
 * newcomer forks. A page that hears nothing within WAIT_MS holds N and
 * remembers that in sessionStorage, so a reload of the same browser tab
 * (no other live holder) keeps its number. When two newcomers meet, the
 * one whose browser tab already held N wins, then the older one.
 *
 * A link marked data-tabkit-switch="N" (the registers list) means "show
 * register N here": the page it opens shares N on purpose and does not
 * fork.
 */
(function () {
  'use strict';

  var path = /^\/(0|[1-9][0-9]{0,8})(\/.*)?$/.exec(location.pathname);
  if (!path || typeof BroadcastChannel !== 'function' || typeof fetch !== 'function') {
    return;
  }

  var tab = path[1];
  var rest = path[2] || '/';

  var CLAIM_KEY = 'tabkit:claim';   // the tab this browser tab holds
  var SWITCH_KEY = 'tabkit:switch'; // a switch link's target, for one load
  var WAIT_MS = 200;                // how long a holder has to answer
  // A background page may answer late; a newcomer the user has not
  // touched yet still forks on a late answer.
  var LATE_MS = 3000;

  var me = null;
  var channel = null;

  function storage(op, key, value) {
    try {
      if (op === 'get') return sessionStorage.getItem(key);
      if (op === 'set') sessionStorage.setItem(key, value);
      if (op === 'remove') sessionStorage.removeItem(key);
    } catch (e) {
      // Storage can be disabled; then reloads are treated as newcomers.
    }
    return null;
  }

  function randomId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Math.random()).slice(2) + String(Date.now());
  }

  // beats says whether page a keeps the tab against page b when both
  // are still deciding.
  function beats(a, b) {
    if (a.claimed !== b.claimed) return a.claimed;
    if (a.startedAt !== b.startedAt) return a.startedAt < b.startedAt;
    return a.page < b.page;
  }

  function hold() {
    if (me.forking) return;
    me.holding = true;
    storage('set', CLAIM_KEY, tab);
  }

  function onMessage(event) {
    var msg = event.data || {};
    if (msg.tab !== tab || msg.page === me.page || me.forking) return;
    if (msg.type === 'hello' && (me.holding || beats(me, msg))) {
      channel.postMessage({ type: 'taken', tab: tab, page: me.page, to: msg.page });
    } else if (msg.type === 'taken' && msg.to === me.page && !me.settled) {
      fork();
    }
  }

  function fork() {
    me.forking = true;
    fetch('/' + tab + '/_tabkit/fork', {
      method: 'POST',
      headers: { 'X-Tabkit-Fork': '1' },
      credentials: 'same-origin'
    }).then(function (res) {
      if (!res.ok) throw new Error('fork refused with status ' + res.status);
      return res.json();
    }).then(function (answer) {
      var next = String(answer.tab);
      // The server gives the same number back when there is nothing to
      // copy (no session yet): keep sharing rather than reload in a loop.
      if (next === tab || answer.prefix !== '/' + next + '/') throw new Error('no new tab');
      storage('set', CLAIM_KEY, next);
      stop();
      location.replace('/' + next + rest + location.search + location.hash);
    }).catch(function () {
      me.forking = false;
      hold();
    });
  }

  function start() {
    me = {
      page: randomId(),
      startedAt: Date.now(),
      claimed: storage('get', CLAIM_KEY) === tab,
      holding: false,
      forking: false,
      settled: false
    };
    channel = new BroadcastChannel('tabkit');
    channel.onmessage = onMessage;

    var switchTo = storage('get', SWITCH_KEY);
    storage('remove', SWITCH_KEY);
    if (switchTo === tab) {
      hold(); // asked for on purpose: share, do not fork
    } else {
      channel.postMessage({ type: 'hello', tab: tab, page: me.page, startedAt: me.startedAt, claimed: me.claimed });
      setTimeout(function () { if (!me.forking) hold(); }, WAIT_MS);
    }
    setTimeout(settle, LATE_MS);
  }

  function settle() { if (me) me.settled = true; }

  function stop() {
    if (channel) channel.close();
    channel = null;
  }

  // Once the user acts on the page it stays where it is.
  ['pointerdown', 'keydown', 'submit'].forEach(function (type) {
    addEventListener(type, settle, true);
  });

  document.addEventListener('click', function (event) {
    var link = event.target.closest && event.target.closest('a[data-tabkit-switch]');
    if (link && !event.ctrlKey && !event.metaKey && !event.shiftKey && link.target !== '_blank') {
      storage('set', SWITCH_KEY, link.getAttribute('data-tabkit-switch'));
    }
  });

  // A page leaving for the back/forward cache stops answering; when it
  // comes back it is a newcomer again.
  addEventListener('pagehide', stop);
  addEventListener('pageshow', function (event) {
    if (event.persisted) start();
  });

  start();
})();
