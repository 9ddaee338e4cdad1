/* The supervisor's big screen (督办大屏): draws the daily trend, the lights per department and
   the KPI ranking with ECharts (vendored: /static/vendor/echarts) and the grid map with
   Leaflet and Leaflet.markercluster (/static/vendor/leaflet*) from the board's JSON (/board/data.json, /board/grids.json, /board/kpis.json). Redraws whenever the
   live part (#live, kept by gridflow.js from /board/stream) changes. No outside code. */
"use strict";
(function () {
  var root = document.getElementById("bigscreen");
  if (!root || !window.echarts || !window.fetch) return;
  var labels = JSON.parse(root.getAttribute("data-labels") || "{}");
  var word = function (key) { return labels[key] || key; };
  var COLORS = { green: "#38a169", yellow: "#ecc94b", red: "#e53e3e" };
  var TEXT = "#dbe7ff", AXIS = "#5a7bb5";
  var SCALE = window.innerWidth >= 3000 ? 2 : 1;  /* 3840x2160: the page's sizes double too */
  var NARROW = window.innerWidth < 1600;  /* 1280 / 1366 wide: smaller map labels, two lines */
  var FONT = { fontSize: 12 * SCALE };
  var LABEL = { color: TEXT, fontSize: 12 * SCALE };  /* axis labels and legends */
  var LEGEND = { textStyle: LABEL, top: 0, itemWidth: 25 * SCALE, itemHeight: 14 * SCALE };
  var charts = {};
  var names = {};  /* grid code -> name */
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
  /* Leaflet (vendored: /static/vendor/leaflet) draws the grids as GeoJSON polygons, on a
     plain background or on the city's own tiles (city.toml [board] tile_url, passed in
     data-tile-url); Leaflet.markercluster groups the yellow / red case points: a cluster
     shows how many, a click zooms in until it splits, a point opens its case, a grid its
     cases. The grids' names are a layer of labels; one that would overlap another is
     hidden, and zooming in shows it again. */
  var leaflet = window.L;
  var map = null, clusters = null, legend = null;
  var grids = {};  /* grid code -> its polygon layer */
  var gridLabels = [];  /* the names' markers, in the order the grids came */
  var lastData = null, lastPoints = "", shade = "open";
  var SHADES = { open: ["#1a365d", "#2b6cb0", "#6b46c1", "#b83280"],
                 lit: ["#1a365d", "#975a16", "#c05621", "#c53030"] };

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  /* The colour of `value` on the shade's scale from 0 to `most` (the stops evenly spaced). */
  function shadeColor(value, most) {
    var stops = SHADES[shade];
    var at = most > 0 ? Math.min(value / most, 1) * (stops.length - 1) : 0;
    var i = Math.min(Math.floor(at), stops.length - 2), f = at - i;
    var a = parseInt(stops[i].slice(1), 16), b = parseInt(stops[i + 1].slice(1), 16);
    var mixed = [16, 8, 0].map(function (shift) {
      var x = (a >> shift) & 255, y = (b >> shift) & 255;
      return Math.round(x + (y - x) * f);
    });
    return "#" + ((1 << 24) + (mixed[0] << 16) + (mixed[1] << 8) + mixed[2]).toString(16).slice(1);
  }

  function gridCounts(data, code) {
    var l = (data.lights_per_grid || {})[code] || { yellow: 0, red: 0 };
    var open = (data.open_per_grid || {})[code] || 0;
    return { open: open, yellow: l.yellow, red: l.red,
             value: shade === "lit" ? l.red + l.yellow : open };
  }

  function drawMap(data) {
    lastData = data;
    if (!map) return;
    var codes = Object.keys(grids);
    var most = codes.reduce(function (m, code) {
      return Math.max(m, gridCounts(data, code).value);
    }, 0);
    codes.forEach(function (code) {
      var n = gridCounts(data, code), layer = grids[code];
      layer.setStyle({ fillColor: shadeColor(n.value, most) });
      layer.setTooltipContent(escapeHtml(names[code] || code) + "<br>" + word("bs_open_cases") +
        ": " + n.open + "<br>" + word("light_yellow") + ": " + n.yellow + " · " +
        word("light_red") + ": " + n.red);
      var path = layer.getElement();
      if (path) path.setAttribute("data-value", String(n.value));
    });
    drawLegend(most);
    drawPoints(data.points || []);
  }

  function drawLegend(most) {
    var box = legend.getContainer();
    box.classList.toggle("bs-legend-lit", shade === "lit");
    box.querySelector("[data-most]").textContent = String(most);
  }

  /* The points, redrawn only when they changed (the data comes again every few seconds). */
  function drawPoints(points) {
    var key = points.map(function (p) { return p.id + p.light; }).join(",");
    if (key === lastPoints) return;
    lastPoints = key;
    clusters.clearLayers();
    clusters.addLayers(points.map(function (p) {
      var size = 14 * SCALE;
      var marker = leaflet.marker([p.lat, p.lng], {
        icon: leaflet.divIcon({ className: "bs-point bs-point-" + p.light, iconSize: [size, size] }),
        title: word("bs_case") + " #" + p.id + " · " + word("light_" + p.light),
        keyboard: true, riseOnHover: true, light: p.light });
      var open = function () { window.location.href = "/cases/" + p.id; };
      marker.on("click", open);
      marker.on("keypress", function (e) { if (e.originalEvent.key === "Enter") open(); });
      return marker;
    }));
  }

  /* A cluster: the number of cases in it, red when one of them is red. */
  function clusterIcon(cluster) {
    var n = cluster.getChildCount();
    var red = cluster.getAllChildMarkers().some(function (m) { return m.options.light === "red"; });
    var size = (n < 10 ? 30 : n < 100 ? 36 : 44) * SCALE;
    return leaflet.divIcon({
      html: '<span class="bs-cluster-n">' + n + '</span><span class="bs-sr">' +
        escapeHtml(word("bs_cluster")) + "</span>",
      className: "bs-cluster bs-cluster-" + (red ? "red" : "yellow"), iconSize: [size, size] });
  }

  /* A long name on two lines where the screen is narrow: 东坡社区 / 第一网格. */
  function shortLabel(name) {
    if (!NARROW || name.length <= 6) return [name];
    var cut = name.indexOf("社区") >= 0 ? name.indexOf("社区") + 2 : Math.ceil(name.length / 2);
    return [name.slice(0, cut), name.slice(cut)];
  }

  /* The middle of a grid's outline (its largest ring's vertices averaged), as [lat, lng]. */
  function center(geometry) {
    var rings = geometry.type === "MultiPolygon"
      ? geometry.coordinates.map(function (p) { return p[0]; }) : [geometry.coordinates[0]];
    var ring = rings.reduce(function (a, b) { return b.length > a.length ? b : a; });
    var points = ring.length > 1 ? ring.slice(0, -1) : ring;
    var sum = points.reduce(function (s, p) { return [s[0] + p[0], s[1] + p[1]]; }, [0, 0]);
    return [sum[1] / points.length, sum[0] / points.length];
  }

  /* Hide a name that would overlap one already shown (in the grids' order), and those
     outside the view (a city of thousands of grids compares only the ones in sight). */
  function placeLabels() {
    var shown = [], view = map.getBounds();
    gridLabels.forEach(function (marker) {
      var el = marker.getElement();
      if (!el) return;
      el.classList.toggle("bs-hidden", !view.contains(marker.getLatLng()));
      if (el.classList.contains("bs-hidden")) return;
      var r = el.firstChild.getBoundingClientRect();
      var hit = shown.some(function (s) {
        return r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom;
      });
      if (hit) el.classList.add("bs-hidden"); else shown.push(r);
    });
  }

  function initMap(geo) {
    var box = document.getElementById("bs-map");
    map = leaflet.map(box, { zoomControl: false, attributionControl: false, zoomSnap: 0.25,
                             zoomDelta: 0.5, wheelPxPerZoomLevel: 120, maxZoom: 19 });
    leaflet.control.zoom({ zoomInTitle: word("bs_zoom_in"), zoomOutTitle: word("bs_zoom_out") })
      .addTo(map);
    var tiles = root.getAttribute("data-tile-url");
    if (tiles) {  /* the city's own tile server, allowed by this page's CSP */
      box.classList.add("bs-map-tiled");
      leaflet.control.attribution({ prefix: false }).addTo(map);
      leaflet.tileLayer(tiles, { maxZoom: 19, attribution:
        escapeHtml(root.getAttribute("data-tile-attribution") || "") }).addTo(map);
    }
    map.createPane("bs-labels");  /* above the grids, below the points; never clicked */
    var layer = leaflet.geoJSON(geo, {
      style: function () {
        return { color: "#9fb8e0", weight: 1, opacity: 1, fillColor: SHADES[shade][0],
                 fillOpacity: tiles ? 0.6 : 0.9 };
      },
      onEachFeature: function (feature, polygon) {
        var code = feature.properties.code;
        grids[code] = polygon;
        polygon.bindTooltip("", { sticky: true, className: "bs-tip", direction: "top" });
        polygon.on("click", function () {
          window.location.href = "/cases?unit=" + encodeURIComponent(code);
        });
        if (!feature.geometry) return;
        var lines = shortLabel(names[code] || code).map(escapeHtml).join("<br>");
        gridLabels.push(leaflet.marker(center(feature.geometry), {
          pane: "bs-labels", interactive: false, keyboard: false,
          icon: leaflet.divIcon({ className: "bs-grid-label", iconSize: null,
                                  html: "<span>" + lines + "</span>" }) }).addTo(map));
      }
    }).addTo(map);
    clusters = leaflet.markerClusterGroup({
      showCoverageOnHover: false, maxClusterRadius: 40 * SCALE, iconCreateFunction: clusterIcon });
    clusters.on("clusterkeypress", function (e) {
      if (e.originalEvent.key === "Enter") e.layer.zoomToBounds();
    });
    map.addLayer(clusters);
    legend = leaflet.control({ position: "bottomright" });
    legend.onAdd = function () {
      var div = leaflet.DomUtil.create("div", "bs-legend");
      div.innerHTML = '<span>0</span><span class="bs-legend-bar"></span><span data-most>0</span>';
      return div;
    };
    legend.addTo(map);
    var bounds = layer.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [8, 8] });
    else map.setView([0, 0], 2);
    Object.keys(grids).forEach(function (code) {  /* the paths exist once the map has a view */
      var path = grids[code].getElement();
      if (path) path.setAttribute("data-grid", code);
    });
    map.on("zoomend moveend", placeLabels);
    map.on("zoomend", function () { box.setAttribute("data-zoom", String(map.getZoom())); });
    box.setAttribute("data-zoom", String(map.getZoom()));  /* the tests wait on a change */
    placeLabels();
  }

  var shadePicker = root.querySelector("[data-map-shade]");
  if (shadePicker) {
    shadePicker.addEventListener("change", function () {
      shade = shadePicker.value === "lit" ? "lit" : "open";
      if (lastData) drawMap(lastData);
    });
  }

  function loadGrids() {
    if (!leaflet || !leaflet.markerClusterGroup) return Promise.reject(new Error("no Leaflet"));
    return getJSON(root.getAttribute("data-grids-url")).then(function (geo) {
      geo.features.forEach(function (f) { names[f.properties.code] = f.properties.name; });
      initMap(geo);
    });
  }

  /* ---------------------------------------------------------------- the charts */
  function axisStyle() {
    return { axisLine: { lineStyle: { color: AXIS } }, axisLabel: LABEL,
             splitLine: { lineStyle: { color: "#1d3461" } } };
  }

  /* The trend: the last 7 or 30 days of data.json's 30 (picker 趋势天数). */
  var trendDays = 7;
  var trendPicker = root.querySelector("[data-trend-days]");
  if (trendPicker) {
    trendPicker.addEventListener("change", function () {
      trendDays = Number(trendPicker.value) || 7;
      if (lastData) drawTrend(lastData);
    });
  }

  function drawTrend(whole) {
    var trend = chart("bs-trend");
    if (!trend) return;
    var last = function (list) { return (list || []).slice(-trendDays); };
    var data = { days: last(whole.days), opened: last(whole.opened), closed: last(whole.closed),
                 overdue: last(whole.overdue) };
    trend.setOption({
      textStyle: FONT,
      tooltip: { trigger: "axis" },
      legend: LEGEND,
      grid: { left: 40 * SCALE, right: 12 * SCALE, top: 30 * SCALE, bottom: 24 * SCALE },
      xAxis: Object.assign({ type: "category", data: data.days }, axisStyle()),
      yAxis: Object.assign({ type: "value", minInterval: 1 }, axisStyle()),
      series: [
        { name: word("opened"), type: "line", smooth: true, data: data.opened, color: "#63b3ed" },
        { name: word("closed"), type: "line", smooth: true, data: data.closed, color: COLORS.green },
        { name: word("bs_overdue"), type: "bar", data: data.overdue, color: COLORS.red }
      ]
    });
  }

  function drawDepartments(data) {
    var deps = chart("bs-deps");
    if (!deps) return;
    var rows = (data.departments || []).slice().reverse();
    var bar = function (light) {
      return { name: word("light_" + light), type: "bar", stack: "lights", color: COLORS[light],
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
    return { show: rows.length === 0, text: word("empty"), left: "center", top: "middle",
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
      series: [{ name: word("bs_score"), type: "bar", color: "#4299e1", cursor: "pointer",
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
        tag.textContent = word("card_" + e.card);
        item.appendChild(tag);
      }
      item.appendChild(document.createTextNode(" " + e.category + " · " + e.unit + " · " +
                                               word("bs_overdue") + " " + e.overdue));
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
  /* 全屏: the big screen alone on the whole display (a wall screen), no scrolling; the live
     tables stay below it on the page for a supervisor at a desk. */
  var fullscreen = root.querySelector("[data-fullscreen]");
  if (fullscreen && root.requestFullscreen) {
    fullscreen.hidden = false;
    fullscreen.addEventListener("click", function () {
      if (document.fullscreenElement) document.exitFullscreen();
      else root.requestFullscreen();
    });
    document.addEventListener("fullscreenchange", function () {
      var on = document.fullscreenElement === root;
      fullscreen.textContent = on ? word("bs_fullscreen_exit") : word("bs_fullscreen");
      window.dispatchEvent(new Event("resize"));
    });
  }
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (id) { charts[id].resize(); });
    if (map) { map.invalidateSize(); placeLabels(); }
  });

  loadGrids().then(loadData, loadData);
  loadKpis();
})();
