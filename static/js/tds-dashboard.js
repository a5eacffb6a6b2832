/* The telemetry dashboard: charts from the JSON API, live updates over SSE. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("tds-config").textContent);
  var F = window.TDSFormat;
  var L = cfg.labels;
  var MAX_LATEST = 50;
  var RELATIVE_MS = { "1h": 3600e3, "24h": 86400e3, "7d": 7 * 86400e3, "30d": 30 * 86400e3 };

  var devices = {};
  cfg.dispositivos.forEach(function (d) { devices[d.id] = d; });
  var gateways = {};
  cfg.gateways.forEach(function (g) { gateways[g.id] = g; });

  var getJSON = window.TDSLive.getJSON;

  /* A meter is named by its nome; its code is secondary. */
  function deviceName(d) { return d.nome ? d.nome + " (" + d.codigo + ")" : d.codigo; }

  /* ---------- cards ---------- */
  function setText(id, text) { var el = document.getElementById(id); if (el) el.textContent = text; }

  var resumoTimer = null;
  function recountGateways() {
    if (cfg.parcial) {
      // Only some of the account's gateways are on the page: ask the server for the counts.
      if (!resumoTimer) resumoTimer = setTimeout(function () {
        resumoTimer = null;
        getJSON(cfg.urls.resumo).then(renderCards).catch(function () {});
      }, 1000);
      return;
    }
    var on = 0, off = 0;
    Object.keys(gateways).forEach(function (k) { if (gateways[k].is_online) on++; else off++; });
    setText("card-gw-online", on);
    setText("card-gw-offline", off);
  }

  function renderCards(c) {
    setText("card-gw-online", c.gateways_online);
    setText("card-gw-offline", c.gateways_offline);
    setText("card-dispositivos", c.dispositivos);
    var el = document.getElementById("card-leituras-hoje");
    el.dataset.value = c.leituras_hoje;
    el.textContent = F.number(c.leituras_hoje);
    var rej = document.querySelector("#card-rejeitadas a");
    if (rej) rej.textContent = c.rejeitadas_24h === null ? "—" : F.number(c.rejeitadas_24h);
  }

  function todayKey() { return F.dateTime(new Date().toISOString()).slice(0, 10); }

  /* ---------- gateways ---------- */
  function setLastSeen(cell, time) {
    // "Última comunicação" only moves forward: a late reading is older than the last contact.
    if (!cell || !time) return;
    var shown = Date.parse(cell.dataset.time || "");
    if (!isNaN(shown) && Date.parse(time) <= shown) return;
    cell.dataset.time = time;
    cell.textContent = F.dateTime(time).slice(0, 16);
  }

  function renderGatewayStatus(id, isOnline, lastSeen) {
    var g = gateways[id];
    if (!g) { if (cfg.parcial) recountGateways(); return; }
    g.is_online = isOnline;
    var row = document.querySelector('#gateways-body tr[data-gateway-id="' + id + '"]');
    if (row) {
      row.dataset.online = isOnline ? "1" : "0";
      var dot = row.querySelector(".status-dot");
      dot.classList.toggle("status-online", isOnline);
      dot.classList.toggle("status-offline", !isOnline);
      row.querySelector(".gw-status-text").textContent = isOnline ? L.online : L.offline;
      if (lastSeen) setLastSeen(row.querySelector(".gw-last-seen"), lastSeen);
    }
    recountGateways();
  }

  /* ---------- latest readings ---------- */
  var latestBody = document.getElementById("latest-body");
  var rowTemplate = document.getElementById("reading-row-template");

  function readingRow(r) {
    // Names and unit from the page's own lists where the reading lacks them (live events).
    var dev = devices[r.dispositivo_id] || {};
    var gw = gateways[r.gateway_id] || {};
    return F.readingRow(rowTemplate, {
      dispositivo_id: r.dispositivo_id, time: r.time, valor: r.valor,
      gateway_codigo: r.gateway_codigo || gw.codigo || "",
      dispositivo_nome: dev.codigo ? dev.nome : "",
      dispositivo_codigo: dev.codigo || r.dispositivo_codigo || "",
      unidade: r.unidade || dev.unidade || ""
    });
  }

  function prependReadings(readings) {
    // Newest first, by reading time: a late reading replayed by a gateway goes where its
    // time puts it (or nowhere, when older than the whole list), never on top.
    readings.forEach(function (r) {
      var t = Date.parse(r.time);
      var rows = latestBody.children, i = 0;
      while (i < rows.length && Date.parse(rows[i].dataset.time) >= t) i++;
      if (i >= MAX_LATEST) return;
      latestBody.insertBefore(readingRow(r), rows[i] || null);
    });
    while (latestBody.children.length > MAX_LATEST) latestBody.removeChild(latestBody.lastChild);
  }

  function renderLatest(readings) {
    latestBody.replaceChildren.apply(latestBody, readings.map(readingRow));
  }

  /* ---------- time series ---------- */
  var serieCanvas = document.getElementById("serie-chart");
  var serieSelect = document.getElementById("serie-dispositivo");
  var serieChart = null;
  var serieState = { periodo: cfg.periodo, inicio: null, fim: null, device: null, requestSeq: 0, modo: "consumo" };

  function seriesUrl() {
    var url = cfg.urls.serie.replace("{id}", serieState.device) + "?periodo=" + encodeURIComponent(serieState.periodo);
    if (serieState.periodo === "custom") {
      url += "&inicio=" + encodeURIComponent(serieState.inicio) + "&fim=" + encodeURIComponent(serieState.fim);
    }
    return url;
  }

  function csvLinks(data) {
    ["serie-csv", "serie-csv-br"].forEach(function (id) {
      var a = document.getElementById(id);
      if (!a) return;
      var url = cfg.urls.csv.replace("{id}", serieState.device) +
        "?inicio=" + encodeURIComponent(data.inicio) + "&fim=" + encodeURIComponent(data.fim);
      if (id === "serie-csv-br") url += "&formato=br";
      a.href = url;
    });
  }

  function datasetsFor(kind, pontos, unidade) {
    function pts(field) { return F.points(pontos, field); }
    if (kind === "INSTANTANEO") {
      return [
        { label: L.media + " (" + unidade + ")", data: pts("avg"), borderWidth: 2, pointRadius: 0, tension: 0.2 },
        { label: L.minimo, data: pts("min"), borderWidth: 1, pointRadius: 0, borderDash: [4, 3] },
        { label: L.maximo, data: pts("max"), borderWidth: 1, pointRadius: 0, borderDash: [4, 3] }
      ];
    }
    if (kind === "INTERVALO") {
      return [{ type: "bar", label: L.soma + " (" + unidade + ")", data: pts("sum"), barThickness: "flex" }];
    }
    if (serieState.modo === "contador") {
      return [{ label: L.registrador + " (" + unidade + ")", data: pts("last"), borderWidth: 2, pointRadius: 0, stepped: false }];
    }
    // Consumption per interval: the server's `consumo`, by the billable rule (a register
    // rollover counts, any other step back counts zero), as on the device page. Each bar
    // as wide as its own interval ("flex"): by default Chart.js draws every bar of a linear
    // axis as thin as the smallest gap, so readings every 10 s made hourly bars hairlines.
    return [{ type: "bar", label: L.consumo_intervalo + " (" + unidade + ")", data: pts("consumo"), barThickness: "flex" }];
  }

  function drawSeries(data) {
    var dev = data.dispositivo;
    var datasets = datasetsFor(dev.tipo_medidor, data.pontos, dev.unidade);
    var xmin = Date.parse(data.inicio), xmax = Date.parse(data.fim);
    var bars = datasets[0].type === "bar";  // consumption: bars stand on zero, as on the device page
    serieCanvas.dataset.dispositivoId = dev.id;  // alarms marked on it (tds-chart-alarms.js)
    if (!serieChart) {
      serieChart = new Chart(serieCanvas, {
        type: "line",
        data: { datasets: datasets },
        options: F.timeChartOptions({ xmin: xmin, xmax: xmax, unit: dev.unidade, beginAtZero: bars, ticks: { maxTicksLimit: 7 } })
      });
    } else {
      serieChart.data.datasets = datasets;
      serieChart.options.scales.x.min = xmin;
      serieChart.options.scales.x.max = xmax;
      serieChart.options.scales.y.beginAtZero = bars;
      serieChart.options.scales.y.title.text = dev.unidade;
      serieChart.update();
    }
    serieCanvas.dataset.periodo = data.periodo;
    serieCanvas.dataset.points = data.pontos.length;
    serieCanvas.dataset.dispositivo = dev.id;
    serieCanvas.dataset.version = String(Number(serieCanvas.dataset.version || 0) + 1);
    var info = document.getElementById("serie-info");
    info.textContent = data.resumo;
    csvLinks(data);
  }

  function loadSeries() {
    if (!serieCanvas || !serieState.device) return Promise.resolve();
    var seq = ++serieState.requestSeq;
    return getJSON(seriesUrl()).then(function (data) {
      if (seq === serieState.requestSeq) drawSeries(data);
    }).catch(function (e) {
      var err = document.getElementById("serie-erro");
      if (err) err.textContent = L.erro;
      console.error(e);
    });
  }

  function appendLiveToSeries(readings) {
    var dev = devices[serieState.device] || {};
    if (dev.tipo_medidor === "ACUMULADO" && serieState.modo === "consumo") return;  // bars: refreshed on resync
    if (!serieChart || !(serieState.periodo in RELATIVE_MS)) return;
    var now = Date.now();
    var changed = false;
    readings.forEach(function (r) {
      if (String(r.dispositivo_id) !== String(serieState.device)) return;
      var ds = serieChart.data.datasets[0];
      ds.data.push({ x: Date.parse(r.time), y: Number(r.valor) });
      changed = true;
    });
    if (!changed) return;
    var min = now - RELATIVE_MS[serieState.periodo];
    serieChart.options.scales.x.min = min;
    serieChart.options.scales.x.max = Math.max(now, serieChart.options.scales.x.max);
    var ds0 = serieChart.data.datasets[0].data;
    while (ds0.length && ds0[0].x < min) ds0.shift();
    if (ds0.length > 1200) { loadSeries(); return; }  // keep it bucketed on the server
    serieChart.update("none");
    serieCanvas.dataset.points = ds0.length;
  }

  if (serieCanvas) {
    serieState.device = serieSelect.value;
    serieSelect.addEventListener("change", function () { serieState.device = serieSelect.value; loadSeries(); });
    var modo = document.getElementById("serie-modo");
    if (modo) modo.addEventListener("change", function () { serieState.modo = modo.value; serieChart && serieChart.destroy(); serieChart = null; loadSeries(); });
    document.querySelectorAll("#serie-periodos [data-periodo]").forEach(function (btn) {
      btn.addEventListener("click", function () {
        document.querySelectorAll("#serie-periodos [data-periodo]").forEach(function (b) { b.classList.toggle("active", b === btn); });
        var custom = document.getElementById("serie-custom");
        if (btn.dataset.periodo === "custom") {
          custom.classList.remove("d-none");
          return;  // drawn on "Aplicar"
        }
        custom.classList.add("d-none");
        serieState.periodo = btn.dataset.periodo;
        loadSeries();
      });
    });
    document.getElementById("serie-custom").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var ini = document.getElementById("serie-inicio").value;
      var fim = document.getElementById("serie-fim").value;
      var err = document.getElementById("serie-erro");
      if (!ini || !fim || ini >= fim) { err.textContent = L.intervalo_invalido; return; }
      err.textContent = "";
      serieState.periodo = "custom";
      serieState.inicio = ini;  // local wall time of America/Sao_Paulo; the server reads it so
      serieState.fim = fim;
      loadSeries();
    });
    loadSeries();
  }

  /* ---------- monthly consumption ---------- */
  var consumoCharts = [];

  function drawConsumo(data) {
    var box = document.getElementById("consumo-charts");
    consumoCharts.forEach(function (c) { c.destroy(); });
    consumoCharts = [];
    box.replaceChildren();
    // One chart per utility and unit (água m³, energia kWh, gás m³): never mixed, so a
    // spike of one utility does not flatten the others.
    var byUnit = {};
    // A big account's chart: one series per utility (consumo-mensal/?por=tipo).
    (data.tipos || []).forEach(function (t) {
      var key = (L.tipos[t.tipo] || t.tipo) + " (" + t.unidade + ")";
      byUnit[key] = [{ nome: L.total, codigo: "", gateway_codigo: "", tipo: t.tipo, unidade: t.unidade, consumo: t.consumo }];
    });
    (data.dispositivos || []).forEach(function (d) {
      if (d.tipo_medidor === "INSTANTANEO") return;  // temperature: no consumption
      var key = (L.tipos[d.tipo] || d.tipo) + " (" + d.unidade + ")";
      (byUnit[key] = byUnit[key] || []).push(d);
    });
    var units = Object.keys(byUnit);
    if (!units.length) {
      var p = document.createElement("p");
      p.className = "text-body-secondary small mb-0";
      p.textContent = L.sem_consumo;
      box.appendChild(p);
      return;
    }
    units.forEach(function (unit) {
      var title = document.createElement("div");
      title.className = "small fw-semibold mt-2";
      title.textContent = L.consumo + " · " + unit;
      var unitOnly = byUnit[unit][0].unidade;
      var wrap = document.createElement("div");
      wrap.className = "tds-chart tds-chart-sm";
      var canvas = document.createElement("canvas");
      canvas.dataset.unidade = unitOnly;
      canvas.dataset.tipo = byUnit[unit][0].tipo;
      canvas.className = "consumo-chart";
      wrap.appendChild(canvas);
      box.appendChild(title);
      box.appendChild(wrap);
      var chart = new Chart(canvas, {
        type: "bar",
        data: {
          labels: data.meses.map(F.month),
          datasets: byUnit[unit].map(function (d) {
            return { label: d.gateway_codigo ? deviceName(d) + " · " + d.gateway_codigo : d.nome, data: d.consumo.map(function (v) { return v === null ? null : Number(v); }) };
          })
        },
        options: {
          animation: false, responsive: true, maintainAspectRatio: false,
          scales: { y: { beginAtZero: true, title: { display: true, text: unitOnly } } },
          plugins: { tooltip: { callbacks: { label: function (item) { return item.dataset.label + ": " + F.number(item.parsed.y) + " " + unitOnly; } } } }
        }
      });
      consumoCharts.push(chart);
    });
    box.dataset.loaded = "1";
  }

  function loadConsumo() {
    return getJSON(cfg.urls.consumo).then(drawConsumo).catch(function (e) { console.error(e); });
  }

  /* ---------- live ---------- */
  function resync() {
    getJSON(cfg.urls.resumo).then(renderCards).catch(function () {});
    getJSON(cfg.urls.gateways).then(function (data) {
      data.gateways.forEach(function (g) { renderGatewayStatus(g.id, g.is_online, g.last_seen); });
    }).catch(function () {});
    getJSON(cfg.urls.ultimas).then(function (data) { renderLatest(data.leituras); }).catch(function () {});
    if (serieState.periodo in RELATIVE_MS) loadSeries();
  }

  function onEvent(type, data) {
    if (type === "readings") {
      var readings = data.readings || [];
      prependReadings(readings);
      var today = todayKey();
      var el = document.getElementById("card-leituras-hoje");
      var add = readings.filter(function (r) { return F.dateTime(r.time).slice(0, 10) === today; }).length;
      if (add) { el.dataset.value = Number(el.dataset.value || 0) + add; el.textContent = F.number(el.dataset.value); }
      var seen = {};
      readings.forEach(function (r) {
        if (!seen[r.gateway_id] || Date.parse(r.time) > Date.parse(seen[r.gateway_id])) seen[r.gateway_id] = r.time;
      });
      Object.keys(seen).forEach(function (gid) {
        setLastSeen(document.querySelector('#gateways-body tr[data-gateway-id="' + gid + '"] .gw-last-seen'), seen[gid]);
      });
      appendLiveToSeries(readings);
    } else if (type === "gateway_status") {
      renderGatewayStatus(data.gateway_id, data.is_online, data.last_seen);
    }
  }

  loadConsumo();
  window.TDSLive.connect({ url: cfg.urls.sse, onEvent: onEvent, resync: resync, pollMs: 5000 });
})();
