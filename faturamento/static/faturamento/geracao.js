// Progress of the statement-generation job: polls its JSON status until done.
(function () {
  const box = document.getElementById("geracao");
  if (!box) return;
  const bar = document.getElementById("geracao-barra");
  bar.style.width = bar.dataset.percentual + "%";  // CSSOM, allowed by the CSP (no style attribute)
  if (["PRONTO", "ERRO"].includes(box.dataset.status)) return;
  const text = document.getElementById("geracao-texto");
  const link = document.getElementById("geracao-download");
  let delay = 700;
  async function poll() {
    try {
      const r = await fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } });
      if (!r.ok) throw new Error(r.status);
      const s = await r.json();
      bar.style.width = s.percentual + "%";
      bar.textContent = s.percentual + "%";
      bar.parentElement.setAttribute("aria-valuenow", s.percentual);
      text.textContent = s.status === "ERRO" ? `${box.dataset.txtErro} ${s.erro}` : `${s.feitos}/${s.total}`;
      if (s.status === "PRONTO") { link.classList.remove("d-none"); text.textContent = `${box.dataset.txtPronto}: ${s.total}`; return; }
      if (s.status === "ERRO") return;
    } catch (e) { delay = Math.min(delay * 2, 10000); }
    setTimeout(poll, delay);
  }
  setTimeout(poll, delay);
})();
