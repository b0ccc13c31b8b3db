// The score distribution of a survey's results page, drawn with Chart.js from the data
// the page embeds with json_script (the content security policy forbids inline
// scripts). The same numbers are in the table under the chart.
(function () {
  "use strict";
  var canvas = document.getElementById("score-chart");
  var source = document.getElementById("results-data");
  if (!canvas || !source || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var RED = "#b02a37";
  var AMBER = "#b35c00";
  var GREEN = "#146c43";
  function colour(value) {
    var v = Number(value);
    if (data.scale === "nps") {
      return v <= 6 ? RED : v <= 8 ? AMBER : GREEN;
    }
    if (data.scale === "ces") {
      return v <= 3 ? RED : v === 4 ? AMBER : GREEN;
    }
    return v <= 2 ? RED : v === 3 ? AMBER : GREEN;
  }
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [{
        label: "Answers",
        data: data.counts,
        backgroundColor: data.labels.map(colour),
      }],
    },
    options: {
      animation: false,
      plugins: { legend: { display: false } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
})();
