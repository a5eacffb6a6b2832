/* Live updates for TDS New pages: Server-Sent Events first, JSON polling as fallback.
 *
 * TDSLive.connect({url, onEvent(type, data), onState(state), resync(), pollMs})
 *   - opens an EventSource on `url`; the browser reconnects by itself when the stream
 *     ends or the network drops (the server sends `retry:`), and `resync()` is called
 *     on every reopen to fetch what may have been missed while disconnected;
 *   - when EventSource is missing, or the stream is refused (closed for good) or keeps
 *     failing, `resync()` is polled every `pollMs` until the stream opens again.
 * The page's live badge (telemetria/partials/live_badge.html) shows the state; `onState`
 * is for anything else a page wants to do with it. No page reload is ever used.
 *
 * TDSLive.getJSON(url): fetch JSON with the session; rejects on an HTTP error status.
 */
(function () {
  "use strict";
  if (window.TDSLive) return;  // loaded by the layout and again by a page: one copy

  function connect(opts) {
    window.TDSLive.active = true;
    var pollMs = opts.pollMs || 5000;
    var pollTimer = null;
    var retryTimer = null;
    var failures = 0;
    var opened = false;
    var es = null;

    function setState(state) {
      document.documentElement.dataset.liveState = state;
      showBadge(state);
      if (opts.onState) opts.onState(state);
    }

    function startPolling() {
      if (pollTimer) return;
      setState("polling");
      pollTimer = window.setInterval(function () {
        opts.resync();
        document.dispatchEvent(new CustomEvent("tds:resync"));
      }, pollMs);
      opts.resync();
    }

    function stopPolling() {
      if (pollTimer) { window.clearInterval(pollTimer); pollTimer = null; }
    }

    function handler(type) {
      return function (msg) {
        var data;
        try { data = JSON.parse(msg.data); } catch (e) { return; }
        opts.onEvent(type, data);
      };
    }

    function open() {
      if (!window.EventSource) { startPolling(); return; }
      es = new EventSource(opts.url);
      es.addEventListener("readings", handler("readings"));
      es.addEventListener("gateway_status", handler("gateway_status"));
      es.addEventListener("alarm", function (msg) {
        var data;
        try { data = JSON.parse(msg.data); } catch (e) { return; }
        // Every page's alarm widgets (navbar count, lists) listen on the document.
        document.dispatchEvent(new CustomEvent("tds:alarm", { detail: data }));
        opts.onEvent("alarm", data);
      });
      // This user was removed from the account: stop, and reload (the server decides
      // what the user may still see).
      es.addEventListener("access_revoked", function () {
        es.close(); stopPolling(); window.location.reload();
      });
      es.onopen = function () {
        failures = 0;
        stopPolling();
        setState("live");
        if (opened) {
          opts.resync();  // catch up after a reconnect
          document.dispatchEvent(new CustomEvent("tds:resync"));
        }
        opened = true;
      };
      es.onerror = function () {
        failures += 1;
        if (es.readyState === EventSource.CLOSED) {
          // Refused (e.g. 401/403 or a proxy error): poll, and try the stream again later.
          startPolling();
          if (!retryTimer) {
            // 30-45 s, at random: refused pages do not all come back at the same moment.
            var delay = 30000 + Math.floor(Math.random() * 15000);
            retryTimer = window.setTimeout(function () { retryTimer = null; open(); }, delay);
          }
        } else if (failures >= 3) {
          startPolling();  // the browser keeps reconnecting meanwhile
        } else {
          setState("reconnecting");
        }
      };
    }

    open();
    return {
      close: function () { stopPolling(); if (es) es.close(); }
    };
  }

  function showBadge(state) {
    var badge = document.getElementById("live-badge");
    if (!badge) return;
    var key = "label" + state.charAt(0).toUpperCase() + state.slice(1);
    document.getElementById("live-label").textContent = badge.dataset[key] || state;
    var dot = document.getElementById("live-dot");
    dot.classList.toggle("status-online", state === "live");
    dot.classList.toggle("status-offline", state !== "live");
  }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) throw new Error(r.status + " " + url);
        return r.json();
      });
  }

  window.TDSLive = { connect: connect, getJSON: getJSON, active: false };
})();
