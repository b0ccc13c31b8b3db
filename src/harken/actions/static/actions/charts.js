// The actions charts, drawn with Chart.js from data the page embeds with Django's
// json_script filter (no inline scripts).
//
// <canvas data-chart="KIND" data-source="ID">: KIND picks the drawing below, ID names
// the JSON script element holding its data. The same numbers are on the page as a
// table, so nothing depends on the canvas alone.
(function () {
  "use strict";

  if (typeof Chart === "undefined") {
    return;
  }

  var BLUE = "#0d6efd";
  var GREY = "#6c757d";

  function source(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function months(labels) {
    return labels.map(function (label) {
      return label.slice(0, 7);
    });
  }

  // Shades the columns of the category axis between two labels (inclusive), with a
  // caption at the top: the baseline and evaluation windows of an effectiveness check.
  var windows = {
    id: "harkenWindows",
    beforeDatasetsDraw: function (chart, args, options) {
      var x = chart.scales.x;
      var area = chart.chartArea;
      var labels = chart.data.labels;
      var context = chart.ctx;
      var step = labels.length > 1 ? x.getPixelForValue(1) - x.getPixelForValue(0) : area.right - area.left;
      (options.spans || []).forEach(function (span) {
        var from = labels.indexOf(span.from);
        var to = labels.indexOf(span.to);
        if (from === -1 && to === -1) {
          return;
        }
        from = from === -1 ? 0 : from;
        to = to === -1 ? labels.length - 1 : to;
        var left = Math.max(area.left, x.getPixelForValue(from) - step / 2);
        var right = Math.min(area.right, x.getPixelForValue(to) + step / 2);
        context.save();
        context.fillStyle = span.fill;
        context.fillRect(left, area.top, right - left, area.bottom - area.top);
        context.fillStyle = span.text;
        context.font = "12px system-ui, sans-serif";
        context.fillText(span.label, left + 4, area.top + 14);
        context.restore();
      });
    }
  };

  var draw = {
    // A check's metric per month with its 95% interval, the two windows shaded.
    effectiveness: function (canvas, data) {
      var labels = months(data.labels);
      return new Chart(canvas, {
        type: "line",
        data: {
          labels: labels,
          datasets: [
            { label: "upper 95%", data: data.upper, borderWidth: 0, pointRadius: 0, fill: false },
            { label: "lower 95%", data: data.lower, borderWidth: 0, pointRadius: 0, fill: "-1", backgroundColor: "rgba(13,110,253,0.12)" },
            { label: data.label, data: data.values, borderColor: BLUE, backgroundColor: BLUE }
          ]
        },
        options: {
          spanGaps: false,
          interaction: { mode: "index", intersect: false },
          scales: { y: { beginAtZero: true } },
          plugins: {
            legend: { labels: { filter: function (item) { return item.text.indexOf("95%") === -1; } } },
            harkenWindows: {
              spans: [
                { from: data.baseline[0].slice(0, 7), to: data.baseline[1].slice(0, 7), label: "Baseline", fill: "rgba(108,117,125,0.12)", text: GREY },
                { from: data.evaluation[0].slice(0, 7), to: data.evaluation[1].slice(0, 7), label: "Evaluation", fill: "rgba(25,135,84,0.12)", text: "#146c43" }
              ]
            }
          }
        },
        plugins: [windows]
      });
    },

    // A theme's feedback items per month.
    "theme-trend": function (canvas, data) {
      return new Chart(canvas, {
        type: "bar",
        data: {
          labels: months(data.labels),
          datasets: [{ label: "Items", data: data.counts, backgroundColor: BLUE }]
        },
        options: {
          plugins: { legend: { display: false } },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
        }
      });
    }
  };

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var kind = canvas.getAttribute("data-chart");
    var data = source(canvas.getAttribute("data-source"));
    if (data && draw[kind]) {
      canvas.chart = draw[kind](canvas, data);
    }
  });
})();
