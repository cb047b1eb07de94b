// School typeahead on the public registration page: type part of the name, pick from the list.
// Without JavaScript the form still works: the server matches the typed name.
(function () {
  "use strict";
  var box = document.querySelector(".typeahead");
  if (!box) return;
  var input = box.querySelector("input[name=school]");
  var hidden = document.querySelector("input[name=school_id]");
  var list = box.querySelector(".typeahead-list");
  var timer = null;
  var seq = 0;

  function clear() { list.innerHTML = ""; list.hidden = true; }

  function choose(school) {
    input.value = school.name;
    hidden.value = String(school.id);
    clear();
  }

  function show(schools) {
    list.innerHTML = "";
    if (!schools.length) {
      var none = document.createElement("li");
      none.className = "muted";
      none.textContent = "Не нашли. Попробуйте номер школы или часть названия.";
      list.appendChild(none);
    }
    schools.forEach(function (school) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = school.name;
      var small = document.createElement("span");
      small.className = "muted small";
      small.textContent = " · " + school.municipality;
      button.appendChild(small);
      button.addEventListener("click", function () { choose(school); });
      item.appendChild(button);
      list.appendChild(item);
    });
    list.hidden = false;
  }

  input.addEventListener("input", function () {
    hidden.value = "";
    clearTimeout(timer);
    var q = input.value.trim();
    if (q.length < 2) { clear(); return; }
    timer = setTimeout(function () {
      var mine = ++seq;
      fetch(box.dataset.url + "?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (schools) { if (mine === seq) show(schools); })
        .catch(function () { clear(); });
    }, 200);
  });
  input.addEventListener("keydown", function (e) { if (e.key === "Escape") clear(); });
})();
