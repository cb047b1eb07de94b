// The staff navigation on a phone: one «Меню» button opens and closes it. Without this script the
// links simply stay visible (CSS collapses them only once `nav-collapsible` is set here).
(function () {
  const button = document.querySelector(".nav-toggle");
  const bar = button && button.closest(".topbar");
  if (!bar) return;
  bar.classList.add("nav-collapsible");
  button.hidden = false;
  button.addEventListener("click", function () {
    const open = bar.classList.toggle("nav-open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
})();
