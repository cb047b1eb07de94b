// Show only the scope field the chosen role needs (municipality, school or venue).
(function () {
  "use strict";
  var select = document.querySelector("[data-role-select]");
  if (!select) return;
  var wanted = { municipal: "scope-municipal", school: "scope-school", venue: "scope-venue" };
  function update() {
    document.querySelectorAll(".scope").forEach(function (el) {
      el.hidden = !el.classList.contains(wanted[select.value] || "none");
    });
  }
  select.addEventListener("change", update);
  update();
})();
