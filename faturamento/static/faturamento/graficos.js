// Charts of the billing pages, from the JSON each page puts in a json_script block
// (no inline script: the Content-Security-Policy allows only our static files).
(function () {
  function data(id) {
    const el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  const balanco = data("balanco-data");
  if (balanco) {
    new Chart(document.getElementById("balanco-chart"), {
      type: "bar",
      data: { labels: balanco.labels, datasets: [
        { type: "line", label: balanco.rotulos.principal, data: balanco.principal, borderColor: "#0d6efd", tension: 0.2 },
        { label: balanco.rotulos.unidades, data: balanco.unidades, backgroundColor: "#6c757d" },
        { label: balanco.rotulos.comum, data: balanco.comum, backgroundColor: "#fd7e14" },
      ] },
      options: { maintainAspectRatio: false, animation: false },
    });
  }
  const minha = data("minha-data");
  if (minha && document.getElementById("minha-chart")) {
    const colors = ["#0d6efd", "#fd7e14", "#198754"];
    new Chart(document.getElementById("minha-chart"), {
      type: "bar",
      data: { labels: minha.labels, datasets: Object.entries(minha.series).map(([label, values], i) => ({ label, data: values, backgroundColor: colors[i % 3] })) },
      options: { maintainAspectRatio: false, animation: false },
    });
  }
})();
