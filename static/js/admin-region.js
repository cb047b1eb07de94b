// Fill the region's name and time zone from the chosen registry entry (still editable).
(function () {
  "use strict";
  var select = document.querySelector("[data-registry-select]");
  if (!select) return;
  select.addEventListener("change", function () {
    var option = select.selectedOptions[0];
    if (!option || !option.value) return;
    document.getElementById("name").value = option.dataset.name;
    document.getElementById("timezone").value = option.dataset.timezone;
  });
})();
