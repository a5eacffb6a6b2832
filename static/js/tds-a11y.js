/* Keyboard access to wide tables (WCAG 2.1.1; axe's scrollable-region-focusable): a
 * .table-responsive box that scrolls sideways (a wide table on a phone) becomes a named,
 * focusable region, so the arrow keys scroll it; one that fits is left out of the Tab
 * order. Re-checked when the window is resized and when a table's rows change (live
 * updates, lists filled by fetch). The region's name is the table's caption, else the
 * nearest heading or card header before it, else the generic name this script's tag
 * carries (data-label, pt-BR from the template); a caption or heading is prefixed with
 * data-prefix ("Tabela: Dispositivos"), as the heading may name a region of its own. */
(function () {
  "use strict";
  var script = document.currentScript;
  var fallback = (script && script.dataset.label) || "Tabela";
  var prefix = (script && script.dataset.prefix) || "Tabela";

  function nameOf(box) {
    var caption = box.querySelector("caption");
    if (caption && caption.textContent.trim()) return prefix + ": " + caption.textContent.trim();
    for (var el = box; el && el !== document.body; el = el.parentElement) {
      for (var prev = el.previousElementSibling; prev; prev = prev.previousElementSibling) {
        var heading = prev.matches("h1,h2,h3,h4,h5,h6,.card-header") ? prev
          : prev.querySelector("h1,h2,h3,h4,h5,h6");
        if (heading && heading.textContent.trim()) {
          // Prefixed: the heading may already name a region of its own.
          return prefix + ": " + heading.textContent.trim().replace(/\s+/g, " ").slice(0, 80);
        }
      }
    }
    return fallback;
  }

  function update(box) {
    var scrolls = box.scrollWidth > box.clientWidth + 1;
    if (scrolls && !box.hasAttribute("tabindex")) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", nameOf(box));
      box.dataset.tdsScrollRegion = "1";
    } else if (!scrolls && box.dataset.tdsScrollRegion) {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
      delete box.dataset.tdsScrollRegion;
    }
  }

  function updateAll() {
    document.querySelectorAll(".table-responsive").forEach(update);
  }

  var pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () { pending = false; updateAll(); });
  }

  updateAll();
  window.addEventListener("resize", schedule);
  new MutationObserver(schedule).observe(document.body, { childList: true, subtree: true });
})();
