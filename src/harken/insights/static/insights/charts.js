// The insights charts, drawn with Chart.js from data the page embeds with Django's
// json_script filter (the content security policy forbids inline scripts).
//
// Each <canvas data-chart="KIND" data-source="ID" data-path="a.b.0"> names the JSON
// script element that holds its data and the dotted path into it; KIND picks the
// drawing below. The numbers themselves are also on the page as text or tables, so
// nothing depends on the canvas alone.
(function () {
  "use strict";

  if (typeof Chart === "undefined") {
    return;
  }

  var RED = "#dc3545";
  var AMBER = "#fd7e14";
  var GREEN = "#198754";
  var BLUE = "#0d6efd";
  var GREY = "#6c757d";
  var TEAL = "#20c997";
  var PALETTE = [BLUE, RED, GREEN, AMBER, "#6f42c1", TEAL, "#d63384", GREY, "#0dcaf0", "#ffc107"];

  var sources = {};

  function source(id) {
    if (!(id in sources)) {
      var element = document.getElementById(id);
      sources[id] = element ? JSON.parse(element.textContent) : null;
    }
    return sources[id];
  }

  function at(data, path) {
    if (!path) {
      return data;
    }
    return path.split(".").reduce(function (value, key) {
      return value === null || value === undefined ? value : value[key];
    }, data);
  }

  function months(labels) {
    return labels.map(function (label) {
      return label.slice(0, 7);
    });
  }

  function field(points, name) {
    return points.map(function (point) {
      return point[name];
    });
  }

  var draw = {
    // Monthly NPS with its interval band, CSAT and the complaint rate on their own axes.
    trend: function (canvas, data) {
      var nps = data.nps || [];
      return new Chart(canvas, {
        type: "line",
        data: {
          labels: months(data.labels),
          datasets: [
            { label: "NPS upper 95%", data: field(nps, "upper"), borderWidth: 0, pointRadius: 0, fill: false, yAxisID: "score" },
            { label: "NPS lower 95%", data: field(nps, "lower"), borderWidth: 0, pointRadius: 0, fill: "-1", backgroundColor: "rgba(13,110,253,0.15)", yAxisID: "score" },
            { label: "NPS", data: field(nps, "value"), borderColor: BLUE, backgroundColor: BLUE, yAxisID: "score" },
            { label: "CSAT %", data: field(data.csat || [], "value"), borderColor: GREEN, backgroundColor: GREEN, yAxisID: "score" },
            { label: "Complaints per 1,000 orders", data: field(data.complaint_rate || [], "value"), borderColor: RED, backgroundColor: RED, borderDash: [4, 3], yAxisID: "rate" }
          ]
        },
        options: {
          spanGaps: false,
          interaction: { mode: "index", intersect: false },
          plugins: { legend: { labels: { filter: function (item) { return item.text.indexOf("95%") === -1; } } } },
          scales: {
            score: { position: "left", suggestedMin: -20, suggestedMax: 100, title: { display: true, text: "NPS / CSAT %" } },
            rate: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: "per 1,000 orders" } }
          }
        }
      });
    },

    // A u-chart: the points, the centre line, each period's limits as steps, special causes in red.
    control: function (canvas, data) {
      var special = {};
      (data.special || []).forEach(function (index) {
        special[index] = RED;
      });
      (data.special_fewer || []).forEach(function (index) {
        special[index] = GREEN;
      });
      var colours = data.values.map(function (_, index) {
        return special[index] || BLUE;
      });
      return new Chart(canvas, {
        type: "line",
        data: {
          labels: months(data.labels),
          datasets: [
            { label: data.unit, data: data.values, borderColor: BLUE, pointBackgroundColor: colours, pointBorderColor: colours, pointRadius: data.values.map(function (_, i) { return special[i] ? 5 : 3; }) },
            { label: "Centre line", data: data.centre, borderColor: GREEN, pointRadius: 0, borderWidth: 1 },
            { label: "Upper control limit", data: data.ucl, borderColor: GREY, pointRadius: 0, borderWidth: 1, borderDash: [5, 4], stepped: "middle" },
            { label: "Lower control limit", data: data.lcl, borderColor: GREY, pointRadius: 0, borderWidth: 1, borderDash: [5, 4], stepped: "middle" }
          ]
        },
        options: { interaction: { mode: "index", intersect: false }, scales: { y: { beginAtZero: true } } }
      });
    },

    // Complaints per category, largest first, with the cumulative share on a 0-100 % axis.
    pareto: function (canvas, rows) {
      return new Chart(canvas, {
        data: {
          labels: field(rows, "label"),
          datasets: [
            { type: "bar", label: "Complaints", data: field(rows, "count"), backgroundColor: BLUE, yAxisID: "count", order: 2 },
            { type: "line", label: "Cumulative %", data: field(rows, "cumulative_percent"), borderColor: AMBER, backgroundColor: AMBER, yAxisID: "share", order: 1 }
          ]
        },
        options: {
          onClick: function (event, elements) {
            if (elements.length && rows[elements[0].index].url) {
              window.location.href = rows[elements[0].index].url;
            }
          },
          scales: {
            count: { position: "left", beginAtZero: true },
            share: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false }, ticks: { callback: function (v) { return v + " %"; } } }
          }
        }
      });
    },

    // NPS answers 0-10: detractors red, passives amber, promoters green.
    nps: function (canvas, data) {
      return new Chart(canvas, {
        type: "bar",
        data: {
          labels: data.scores,
          datasets: [{
            label: "Answers",
            data: data.counts,
            backgroundColor: data.scores.map(function (score) {
              return score <= 6 ? RED : score <= 8 ? AMBER : GREEN;
            })
          }]
        },
        options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
      });
    },

    // A sparkline of an objective part's recent periods.
    spark: function (canvas, part) {
      var trend = part.trend || [];
      return new Chart(canvas, {
        type: "line",
        data: {
          labels: trend.map(function (point) { return point[0].slice(0, 7); }),
          datasets: [{ data: trend.map(function (point) { return point[1]; }), borderColor: part.on_target === false ? RED : GREEN, borderWidth: 1.5, pointRadius: 1.5 }]
        },
        options: {
          responsive: false,
          animation: false,
          plugins: { legend: { display: false }, tooltip: { enabled: true } },
          scales: { x: { display: false }, y: { display: false } }
        }
      });
    },

    // Explore: one line per split value.
    lines: function (canvas, data) {
      return new Chart(canvas, {
        type: "line",
        data: {
          labels: data.labels,
          datasets: data.series.map(function (series, index) {
            var colour = PALETTE[index % PALETTE.length];
            return { label: series.label, data: series.values, borderColor: colour, backgroundColor: colour };
          })
        },
        options: { interaction: { mode: "index", intersect: false }, plugins: { title: { display: true, text: data.metric } } }
      });
    },

    // A signal's evidence points against their centre line and upper limit.
    evidence: function (canvas, data) {
      return new Chart(canvas, {
        type: "line",
        data: {
          labels: months(data.labels),
          datasets: [
            { label: data.unit || "Value", data: data.values, borderColor: RED, backgroundColor: RED },
            { label: "Centre line", data: data.centre, borderColor: GREEN, pointRadius: 0, borderWidth: 1 },
            { label: "Upper control limit", data: data.ucl, borderColor: GREY, pointRadius: 0, borderWidth: 1, borderDash: [5, 4], stepped: "middle" }
          ]
        },
        options: { scales: { y: { beginAtZero: true } } }
      });
    },

    // An objective's trend against its target.
    target: function (canvas, data) {
      return new Chart(canvas, {
        type: "line",
        data: {
          labels: months(data.labels),
          datasets: [
            { label: "Value", data: data.values, borderColor: BLUE, backgroundColor: BLUE },
            { label: "Target", data: data.labels.map(function () { return data.target; }), borderColor: RED, pointRadius: 0, borderWidth: 1, borderDash: [5, 4] }
          ]
        }
      });
    }
  };

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var kind = canvas.getAttribute("data-chart");
    var data = at(source(canvas.getAttribute("data-source")), canvas.getAttribute("data-path"));
    if (!draw[kind] || data === null || data === undefined) {
      return;
    }
    canvas.chart = draw[kind](canvas, data);
    canvas.setAttribute("data-drawn", "true");
  });
})();
