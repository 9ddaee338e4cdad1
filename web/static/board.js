/* The supervisor's big screen (督办大屏): draws the grid map, the daily trend, the lights per
   department and the KPI ranking with ECharts (vendored: /static/vendor/echarts) from the
   board's JSON (/board/data.json, /board/grids.json, /board/kpis.json). Redraws whenever the
   live part (#live, kept by gridflow.js from /board/stream) changes. No outside code. */
"use strict";
(function () {
  var root = document.getElementById("bigscreen");
  if (!root || !window.echarts || !window.fetch) return;
  var labels = JSON.parse(root.getAttribute("data-labels") || "{}");
  var L = function (key) { return labels[key] || key; };
  var COLORS = { green: "#38a169", yellow: "#ecc94b", red: "#e53e3e" };
  var POINT_COLORS = { yellow: "#ffd43b", red: "#ff4d4f" };  /* bright on the blue map */
  var TEXT = "#dbe7ff", AXIS = "#5a7bb5";
  var SCALE = window.innerWidth >= 3000 ? 2 : 1;  /* 3840x2160: the page's sizes double too */
  var NARROW = window.innerWidth < 1600;  /* 1280 / 1366 wide: smaller map labels, two lines */
  var FONT = { fontSize: 12 * SCALE };
  var LABEL = { color: TEXT, fontSize: 12 * SCALE };  /* axis labels and legends */
  var LEGEND = { textStyle: LABEL, top: 0, itemWidth: 25 * SCALE, itemHeight: 14 * SCALE };
  var charts = {};
  var names = {};  /* grid code -> name */
  var centers = {};  /* grid code -> [lng, lat]: where its name is written */
  var period = "month";

  function chart(id) {
    if (!charts[id]) {
      var box = document.getElementById(id);
      if (!box) return null;
      charts[id] = window.echarts.init(box, null, { renderer: "canvas" });
    }
    return charts[id];
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); });
  }

  function percent(x) { return x === null || x === undefined ? "—" : (x * 100).toFixed(1) + "%"; }

  function setText(selector, text) {
    root.querySelectorAll(selector).forEach(function (el) { el.textContent = text; });
  }

  /* ---------------------------------------------------------------- the map */
  var mapReady = false;

  var lastData = null, shade = "open";
  var SHADES = { open: ["#1a365d", "#2b6cb0", "#6b46c1", "#b83280"],
                 lit: ["#1a365d", "#975a16", "#c05621", "#c53030"] };

  function drawMap(data) {
    var map = chart("bs-map");
    lastData = data;
    if (!map || !mapReady) return;
    var perGrid = data.open_per_grid || {}, lit = data.lights_per_grid || {};
    var values = Object.keys(names).map(function (code) {
      var l = lit[code] || { yellow: 0, red: 0 };
      var n = shade === "lit" ? l.red + l.yellow : perGrid[code] || 0;
      return { name: code, value: n, open: perGrid[code] || 0, yellow: l.yellow, red: l.red };
    });
    var most = values.reduce(function (m, v) { return Math.max(m, v.value); }, 0);
    var points = (data.points || []).map(function (p) {
      return { name: "#" + p.id, id: p.id, value: [p.lng, p.lat], light: p.light,
               itemStyle: { color: POINT_COLORS[p.light] } };
    });
    map.setOption({
      textStyle: FONT,
      tooltip: { trigger: "item", formatter: function (p) {
        if (p.seriesType === "scatter") return L("bs_case") + " " + p.name;
        var d = p.data || {};
        return (names[p.name] || p.name) + "<br>" + L("bs_open_cases") + ": " + (d.open || 0) +
          "<br>" + L("light_yellow") + ": " + (d.yellow || 0) + " · " + L("light_red") + ": " +
          (d.red || 0);
      } },
      visualMap: { min: 0, max: Math.max(most, 1), seriesIndex: 0, calculable: false,
                   right: 8, bottom: 8, itemHeight: 90 * SCALE, itemWidth: 20 * SCALE,
                   textStyle: LABEL, inRange: { color: SHADES[shade] } },
      geo: { map: "gridflow-grids", nameProperty: "code", roam: true, left: 8, right: 56,
             top: 8, bottom: 8, itemStyle: { borderColor: "#9fb8e0", borderWidth: 1 },
             label: { show: false },
             emphasis: { label: { show: false }, itemStyle: { areaColor: "#4a78c2" } } },
      series: [
        { type: "map", geoIndex: 0, data: values },
        { type: "scatter", coordinateSystem: "geo", data: points, symbolSize: 12 * SCALE,
          itemStyle: { borderColor: "#fff", borderWidth: 1.5, opacity: 1 }, zlevel: 1 },
        /* The grids' names: a layer of its own, so ECharts hides a name that would overlap
           another (labelLayout works on series, not on the geo's own labels); zooming in
           (roam) shows the hidden ones again. */
        { type: "scatter", coordinateSystem: "geo", silent: true, symbolSize: 0,
          data: gridNames(), labelLayout: { hideOverlap: true },
          label: { show: true, position: "inside", color: "#fff", lineHeight: 14 * SCALE,
                   fontSize: (NARROW ? 11 : 12) * SCALE, textBorderColor: "#0b1a33",
                   textBorderWidth: 2, formatter: function (p) { return p.data.label; } } }
      ]
    });
  }

  /* A long name on two lines where the screen is narrow: 东坡社区 / 第一网格. */
  function shortLabel(name) {
    if (!NARROW || name.length <= 6) return name;
    var cut = name.indexOf("社区") >= 0 ? name.indexOf("社区") + 2 : Math.ceil(name.length / 2);
    return name.slice(0, cut) + "\n" + name.slice(cut);
  }

  function gridNames() {
    return Object.keys(centers).map(function (code) {
      return { name: code, value: centers[code], label: shortLabel(names[code] || code) };
    });
  }

  /* The middle of a grid's outline (its largest ring's vertices averaged). */
  function center(geometry) {
    var rings = geometry.type === "MultiPolygon"
      ? geometry.coordinates.map(function (p) { return p[0]; }) : [geometry.coordinates[0]];
    var ring = rings.reduce(function (a, b) { return b.length > a.length ? b : a; });
    var points = ring.length > 1 ? ring.slice(0, -1) : ring;
    var sum = points.reduce(function (s, p) { return [s[0] + p[0], s[1] + p[1]]; }, [0, 0]);
    return [sum[0] / points.length, sum[1] / points.length];
  }

  var shadePicker = root.querySelector("[data-map-shade]");
  if (shadePicker) {
    shadePicker.addEventListener("change", function () {
      shade = shadePicker.value === "lit" ? "lit" : "open";
      if (lastData) drawMap(lastData);
    });
  }

  function loadGrids() {
    return getJSON(root.getAttribute("data-grids-url")).then(function (geo) {
      geo.features.forEach(function (f) {
        names[f.properties.code] = f.properties.name;
        if (f.geometry) centers[f.properties.code] = center(f.geometry);
      });
      window.echarts.registerMap("gridflow-grids", geo);
      mapReady = true;
      var map = chart("bs-map");
      map.on("click", function (p) {
        if (p.seriesType === "scatter" && p.data && p.data.id) {
          window.location.href = "/cases/" + p.data.id;
        } else if (p.name && names[p.name]) {
          window.location.href = "/cases?unit=" + encodeURIComponent(p.name);
        }
      });
    });
  }

  /* ---------------------------------------------------------------- the charts */
  function axisStyle() {
    return { axisLine: { lineStyle: { color: AXIS } }, axisLabel: LABEL,
             splitLine: { lineStyle: { color: "#1d3461" } } };
  }

  function drawTrend(data) {
    var trend = chart("bs-trend");
    if (!trend) return;
    trend.setOption({
      textStyle: FONT,
      tooltip: { trigger: "axis" },
      legend: LEGEND,
      grid: { left: 40 * SCALE, right: 12 * SCALE, top: 30 * SCALE, bottom: 24 * SCALE },
      xAxis: Object.assign({ type: "category", data: data.days }, axisStyle()),
      yAxis: Object.assign({ type: "value", minInterval: 1 }, axisStyle()),
      series: [
        { name: L("opened"), type: "line", smooth: true, data: data.opened, color: "#63b3ed" },
        { name: L("closed"), type: "line", smooth: true, data: data.closed, color: COLORS.green },
        { name: L("bs_overdue"), type: "bar", data: data.overdue, color: COLORS.red }
      ]
    });
  }

  function drawDepartments(data) {
    var deps = chart("bs-deps");
    if (!deps) return;
    var rows = (data.departments || []).slice().reverse();
    var bar = function (light) {
      return { name: L("light_" + light), type: "bar", stack: "lights", color: COLORS[light],
               data: rows.map(function (r) { return r[light]; }) };
    };
    deps.setOption({
      textStyle: FONT,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: LEGEND,
      title: empty(rows),
      grid: { left: 8, right: 16 * SCALE, top: 30 * SCALE, bottom: 8, containLabel: true },
      xAxis: Object.assign({ type: "value", minInterval: 1 }, axisStyle()),
      yAxis: Object.assign({ type: "category", data: rows.map(function (r) { return r.name; }) },
                           axisStyle(), { axisLabel: Object.assign({ width: 130 * SCALE, overflow: "truncate" }, LABEL) }),
      series: [bar("green"), bar("yellow"), bar("red")]
    });
  }

  /* 暂无 in the middle of a chart with nothing to show, instead of empty axes. */
  function empty(rows) {
    return { show: rows.length === 0, text: L("empty"), left: "center", top: "middle",
             textStyle: { color: "#a9bedf", fontSize: 14 * SCALE, fontWeight: "normal" } };
  }

  /* A click on a bar or its name drills down: link(row) is where it goes. */
  function drawRanking(id, rows, link) {
    var rank = chart(id);
    if (!rank) return;
    var shown = rows.slice().reverse();
    rank.off("click");
    rank.on("click", function (p) {
      var row = p.componentType === "yAxis"
        ? shown.filter(function (r) { return r.name === p.value; })[0] : shown[p.dataIndex];
      if (row) window.location.href = link(row);
    });
    rank.setOption({
      textStyle: FONT,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      title: empty(shown),
      grid: { left: 8, right: 44 * SCALE, top: 8, bottom: 8, containLabel: true },
      xAxis: Object.assign({ type: "value", min: 0, max: 100 }, axisStyle()),
      yAxis: Object.assign({ type: "category", triggerEvent: true,
                             data: shown.map(function (r) { return r.name; }) },
                           axisStyle(), { axisLabel: Object.assign({ width: 130 * SCALE, overflow: "truncate" }, LABEL) }),
      series: [{ name: L("bs_score"), type: "bar", color: "#4299e1", cursor: "pointer",
                 label: { show: true, position: "right", color: TEXT, fontSize: 12 * SCALE,
                          formatter: function (p) { return Number(p.value).toFixed(1); } },
                 data: shown.map(function (r) { return Math.round(r.score * 10) / 10; }) }]
    });
  }

  function drawLatest(data) {
    var list = document.getElementById("bs-latest");
    var nothing = document.getElementById("bs-latest-empty");
    if (!list) return;
    list.textContent = "";
    var escalations = data.escalations || [];
    if (nothing) nothing.hidden = escalations.length > 0;  /* 暂无: not a blank panel */
    escalations.forEach(function (e) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = "/cases/" + e.id;
      link.textContent = "#" + e.id;
      item.appendChild(link);
      if (e.card) {
        var tag = document.createElement("span");
        tag.className = "tag card-" + e.card;
        tag.textContent = L("card_" + e.card);
        item.appendChild(tag);
      }
      item.appendChild(document.createTextNode(" " + e.category + " · " + e.unit + " · " +
                                               L("bs_overdue") + " " + e.overdue));
      list.appendChild(item);
    });
  }

  /* ---------------------------------------------------------------- loading */
  function loadData() {
    return getJSON(root.getAttribute("data-data-url")).then(function (data) {
      Object.keys(data.totals || {}).forEach(function (light) {
        setText('[data-total="' + light + '"]', String(data.totals[light]));
      });
      setText("[data-updated]", data.updated);
      drawMap(data);
      drawTrend(data);
      drawDepartments(data);
      drawLatest(data);
      root.setAttribute("data-drawn", String(Number(root.getAttribute("data-drawn") || 0) + 1));
    });
  }

  function loadKpis() {
    var url = root.getAttribute("data-kpis-url") + "&period=" + encodeURIComponent(period);
    return getJSON(url).then(function (kpis) {
      var total = kpis.total || {};
      ["on_time_resolve_rate", "satisfaction_rate", "resolution_rate"].forEach(function (key) {
        setText('[data-kpi="' + key + '"]', percent(total[key]));
      });
      setText('[data-kpi="overdue_cases"]', String(total.overdue_cases || 0));
      setText('[data-kpi="score"]', total.score === null ? "—" : Number(total.score).toFixed(1));
      drawRanking("bs-rank-dep", kpis.departments || [], function (r) {
        return "/cases?department=" + encodeURIComponent(r.code);
      });
      drawRanking("bs-rank-unit", kpis.units || [], function (r) {  /* that unit's board */
        return "/board?unit=" + encodeURIComponent(r.code);
      });
    });
  }

  var periodPicker = root.querySelector("[data-kpi-period]");
  if (periodPicker) {
    periodPicker.addEventListener("change", function () { period = periodPicker.value; loadKpis(); });
  }

  /* Redraw when the live part changes (at most every 5 s), KPIs at most once a minute. */
  var pending = null, kpisAt = Date.now();
  var live = document.getElementById("live");
  if (live && window.MutationObserver) {
    new MutationObserver(function () {
      if (pending) return;
      pending = setTimeout(function () {
        pending = null;
        loadData();
        if (Date.now() - kpisAt > 60000) { kpisAt = Date.now(); loadKpis(); }
      }, 5000);
    }).observe(live, { childList: true });
  }
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (id) { charts[id].resize(); });
  });

  loadGrids().then(loadData, loadData);
  loadKpis();
})();
