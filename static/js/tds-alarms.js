/* Live alarms on every page: the navbar's open count, a toast for each new alarm, and
 * the alarm lists/panels on the page ([data-alarm-list] tables, [data-open-alarms]
 * lists), from the "alarm" events of the account's live stream (SSE).
 *
 * The page's own live connection (dashboard, gateway) already forwards alarm events as
 * `tds:alarm` document events; on other pages this script opens the stream itself.
 * After a reconnect (`tds:resync`) the count is fetched again. No page reload.
 */
(function () {
  "use strict";
  var cfgEl = document.getElementById("tds-alarm-config");
  if (!cfgEl) return;
  var cfg = JSON.parse(cfgEl.textContent);
  var L = cfg.labels;
  var num = new Intl.NumberFormat("pt-BR", { maximumFractionDigits: 4 });
  var dt = new Intl.DateTimeFormat("pt-BR", {
    timeZone: cfg.time_zone, day: "2-digit", month: "2-digit", year: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"
  });
  var F = {
    number: function (v) { return v === null || v === undefined || v === "" ? "—" : num.format(Number(v)); },
    dateTime: function (iso) { return iso ? dt.format(new Date(iso)).replace(",", "") : "—"; },
    escape: function (s) {
      return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, function (c) {
        return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
      });
    }
  };
  var SEV_CLASS = { critico: "danger", alto: "danger", medio: "warning", baixo: "info", informativo: "secondary" };
  var EST_CLASS = { ativo: "danger", reconhecido: "warning", encerrado: "secondary" };
  var seen = {};

  function esc(s) { return F.escape(s); }

  function setCount(n) {
    var el = document.getElementById("tds-alarm-count");
    if (!el) return;
    el.textContent = n;
    el.classList.toggle("text-bg-danger", n > 0);
    el.classList.toggle("text-bg-secondary", !(n > 0));
  }

  function badge(kind, value, labels) {
    return '<span class="badge text-bg-' + (kind[value] || "secondary") + '">' + esc(labels[value] || value) + "</span>";
  }

  function toast(a) {
    var box = document.getElementById("tds-alarm-toasts");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "toast show border-danger";
    el.setAttribute("role", "alert");
    el.dataset.testid = "alarm-toast";
    el.innerHTML = '<div class="toast-header"><strong class="me-auto text-danger">' + esc(L.novo) +
      '</strong><button type="button" class="btn-close" aria-label="' + esc(L.fechar) + '"></button></div>' +
      '<div class="toast-body"><a href="' + esc(a.url) + '">' + esc(a.regra_nome) + " — " + esc(a.alvo) +
      "</a><div class=\"small\">" + esc(a.mensagem) + "</div></div>";
    el.querySelector(".btn-close").addEventListener("click", function () { el.remove(); });
    box.appendChild(el);
    window.setTimeout(function () { el.remove(); }, 15000);
    while (box.children.length > 4) box.removeChild(box.firstChild);
  }

  function tableRow(a) {
    var tr = document.createElement("tr");
    tr.dataset.alarmId = a.id;
    tr.dataset.testid = "alarm-row";
    tr.className = "tds-new-alarm";
    tr.innerHTML =
      '<td class="alarm-estado">' + badge(EST_CLASS, a.estado, L.estado) + "</td>" +
      "<td>" + badge(SEV_CLASS, a.severidade, L.severidade) + "</td>" +
      '<td><a href="' + esc(a.url) + '">' + esc(a.regra_nome) + "</a>" +
      '<div class="small text-body-secondary">' + esc(a.mensagem) + "</div></td>" +
      "<td>" + esc(a.alvo) + "</td>" +
      '<td class="text-nowrap">' + esc(F.dateTime(a.inicio)) + "</td>" +
      '<td class="text-end">' + esc(F.number(a.valor)) + "</td>";
    return tr;
  }

  function updateLists(a) {
    document.querySelectorAll("[data-alarm-list]").forEach(function (tbody) {
      var row = tbody.querySelector('tr[data-alarm-id="' + a.id + '"]');
      if (row) {
        var cell = row.querySelector(".alarm-estado");
        if (cell) cell.innerHTML = badge(EST_CLASS, a.estado, L.estado);
      } else if (a.estado === "ativo" && tbody.dataset.alarmList === "live") {
        var empty = tbody.querySelector("[data-empty]");
        if (empty) empty.remove();
        tbody.insertBefore(tableRow(a), tbody.firstChild);
      }
    });
    document.querySelectorAll("[data-open-alarms]").forEach(function (list) {
      var gw = list.dataset.gatewayId;
      if (gw && String(a.gateway_id) !== gw) return;
      var item = list.querySelector('[data-alarm-id="' + a.id + '"]');
      if (a.estado === "encerrado") { if (item) item.remove(); }
      else {
        if (!item) {
          item = document.createElement("a");
          item.className = "list-group-item list-group-item-action";
          item.dataset.alarmId = a.id;
          item.dataset.testid = "open-alarm";
          list.insertBefore(item, list.firstChild);
        }
        item.href = a.url;
        item.innerHTML = badge(SEV_CLASS, a.severidade, L.severidade) + " " +
          badge(EST_CLASS, a.estado, L.estado) + " <strong>" + esc(a.regra_nome) + "</strong> — " +
          esc(a.alvo) + ' <span class="small text-body-secondary">' + esc(a.mensagem) + "</span>";
      }
      var empty = list.parentNode.querySelector("[data-open-alarms-empty]");
      if (empty) empty.classList.toggle("d-none", list.children.length > 0);
    });
  }

  document.addEventListener("tds:alarm", function (ev) {
    var data = ev.detail;
    if (!data || !data.alarme) return;
    var a = data.alarme;
    setCount(data.abertos);
    if (a.estado === "ativo" && !seen[a.id]) toast(a);
    seen[a.id] = a.estado;
    updateLists(a);
    document.documentElement.dataset.lastAlarm = a.id + ":" + a.estado;
  });

  function resync() {
    fetch(cfg.resumo, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) { if (d) setCount(d.abertos); })
      .catch(function () {});
  }
  document.addEventListener("tds:resync", resync);

  // After every page script ran: open the stream unless the page already has one.
  window.addEventListener("load", function () {
    if (window.TDSLive && !window.TDSLive.active) {
      window.TDSLive.connect({ url: cfg.sse, onEvent: function () {}, resync: resync, pollMs: 10000 });
    }
  });
})();
