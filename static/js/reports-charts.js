// Attendance report charts (vendored Chart.js): arrivals over time and turnout by municipality.
// The numbers come from the page's JSON block; nothing is fetched and nothing runs inline.
(function () {
  "use strict";
  function draw() {
    var block = document.getElementById("report-charts");
    if (!block || !window.Chart) return;
    var data = JSON.parse(block.textContent);
    var common = { responsive: true, maintainAspectRatio: false, animation: false,
                   plugins: { legend: { position: "bottom" } },
                   scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } };
    new window.Chart(document.getElementById("chart-arrivals"), {
      type: "bar",
      data: { labels: data.arrivals.labels,
              datasets: [{ label: data.labels.checked_in, data: data.arrivals.values, backgroundColor: "#1f9d6b" }] },
      options: common
    });
    new window.Chart(document.getElementById("chart-turnout"), {
      type: "bar",
      data: { labels: data.turnout.labels,
              datasets: [{ label: data.labels.registered, data: data.turnout.registered, backgroundColor: "#b9cbff" },
                         { label: data.labels.checked_in, data: data.turnout.checked_in, backgroundColor: "#1f9d6b" }] },
      options: common
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
