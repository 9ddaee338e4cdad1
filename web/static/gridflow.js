/* gridflow pages: small progressive enhancements, no outside code.
   - [data-live]: follow a server-sent event stream and replace the element's content.
   - [data-locate]: fill latitude / longitude inputs from the device's location.
   - [data-fill]: a button that puts its data-value into the input whose id is data-fill.
   - [data-suggest]: as the caller's words are typed into the data-text field (and the
     data-extra one), POST them to the data-suggest URL about 400 ms after typing stops and
     show the answer's suggestions as [data-fill] buttons for the data-fill-target input.
   - [data-caller-history]: as a phone number is typed into #reporter_phone, fetch the
     caller's earlier cases from that URL about 400 ms after typing stops and show them. */
"use strict";
document.querySelectorAll("[data-live]").forEach(function (box) {
  if (!window.EventSource) return;
  var status = document.getElementById("live-status");
  var source = new EventSource(box.getAttribute("data-live"));
  source.addEventListener("board", function (event) {
    box.innerHTML = event.data;
    box.setAttribute("data-events", String(Number(box.getAttribute("data-events") || 0) + 1));
    if (status) status.classList.add("on");
  });
  source.onerror = function () { if (status) status.classList.remove("on"); };
});
document.querySelectorAll("[data-locate]").forEach(function (button) {
  button.addEventListener("click", function () {
    var status = document.getElementById(button.getAttribute("data-status"));
    var failed = button.getAttribute("data-failed") || "—";
    if (!navigator.geolocation) { if (status) status.textContent = failed; return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      var lat = document.getElementById(button.getAttribute("data-lat"));
      var lng = document.getElementById(button.getAttribute("data-lng"));
      lat.value = pos.coords.latitude.toFixed(6);
      lng.value = pos.coords.longitude.toFixed(6);
      lng.dispatchEvent(new Event("change"));  /* the pin and the grid's name follow */
    }, function () { if (status) status.textContent = failed; },
    { enableHighAccuracy: true, timeout: 10000 });
  });
});
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("[data-fill]") : null;
  if (!button) return;
  var input = document.getElementById(button.getAttribute("data-fill"));
  if (!input) return;
  event.preventDefault();
  input.value = button.getAttribute("data-value");
  input.dispatchEvent(new Event("change", { bubbles: true }));
  input.focus();
});
document.querySelectorAll("[data-suggest]").forEach(function (box) {
  var form = box.closest("form");
  var text = document.getElementById(box.getAttribute("data-text"));
  var extra = document.getElementById(box.getAttribute("data-extra"));
  var list = box.querySelector("ul");
  var target = box.getAttribute("data-fill-target");
  var delay = Number(box.getAttribute("data-delay") || 400);
  if (!form || !text || !list || !window.fetch || !window.URLSearchParams) return;
  var timer = null, asked = 0, last = null;
  function show(items) {
    list.textContent = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.setAttribute("data-fill", target);
      button.setAttribute("data-value", item.label);
      button.textContent = item.label + " · " + Math.round(item.confidence * 100) + "%";
      li.appendChild(button);
      list.appendChild(li);
    });
    box.hidden = items.length === 0;
  }
  function ask() {
    var key = text.value + "\u0000" + (extra ? extra.value : "");
    if (key === last) return;
    last = key;
    var mine = ++asked;
    var body = new URLSearchParams();
    body.append("csrf_token", form.querySelector("[name=csrf_token]").value);
    body.append("description", text.value);
    if (extra) body.append("address", extra.value);
    fetch(box.getAttribute("data-suggest"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      if (answer && mine === asked) show(answer.suggestions || []);  /* only the latest */
    }).catch(function () { last = null; });
  }
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(ask, delay);
  }
  text.addEventListener("input", schedule);
  if (extra) extra.addEventListener("input", schedule);
  if (text.value) schedule();
});
/* [data-print]: print the page (the print stylesheet keeps the case, drops the controls). */
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
/* [data-file-status]: a photo input whose own (browser-language) text is hidden says how
   many photos were chosen in the element named by data-file-status. */
document.querySelectorAll("[data-file-status]").forEach(function (input) {
  var status = document.getElementById(input.getAttribute("data-file-status"));
  if (!status) return;
  var empty = status.textContent;
  input.addEventListener("change", function () {
    var n = input.files ? input.files.length : 0;
    status.textContent = n ? input.getAttribute("data-chosen").replace("{n}", String(n)) : empty;
  });
});
/* [data-map]: the grid worker's server-drawn map (web/pages/grid_map.py). placePin puts the
   pin at a latitude / longitude with the projection in the map's data attributes and
   answers the name of the grid under it (or null). */
function insidePolygon(x, y, polygon) {
  var pts = polygon.getAttribute("points").trim().split(/\s+/).map(function (p) {
    return p.split(",").map(Number);
  });
  var inside = false;
  for (var i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    var xi = pts[i][0], yi = pts[i][1], xj = pts[j][0], yj = pts[j][1];
    if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
function placePin(lat, lng) {
  var map = document.querySelector("[data-map]");
  var pin = document.getElementById("map-pin");
  if (!map || !pin || isNaN(lat) || isNaN(lng)) return null;
  var d = map.dataset, pad = Number(d.pad), scale = Number(d.scale);
  var x = pad + (lng - Number(d.minLng)) * Number(d.squash) * scale;
  var y = pad + (Number(d.maxLat) - lat) * scale;
  pin.setAttribute("transform", "translate(" + x.toFixed(1) + "," + y.toFixed(1) + ")");
  pin.classList.remove("off");
  var found = null;
  map.querySelectorAll("polygon[data-grid]").forEach(function (polygon) {
    polygon.classList.remove("here");
    if (!found && insidePolygon(x, y, polygon)) found = polygon;
  });
  if (found) found.classList.add("here");
  return found ? found.getAttribute("data-name") : null;
}
document.querySelectorAll("[data-locate]").forEach(function (button) {
  var lat = document.getElementById(button.getAttribute("data-lat"));
  var lng = document.getElementById(button.getAttribute("data-lng"));
  var status = document.getElementById(button.getAttribute("data-status"));
  function show() {
    var name = placePin(parseFloat(lat.value), parseFloat(lng.value));
    if (!status || !lat.value || !lng.value) return;
    status.textContent = name ? button.getAttribute("data-found").replace("{grid}", name)
      : button.getAttribute("data-outside");
  }
  if (lat && lng) {
    lat.addEventListener("change", show);
    lng.addEventListener("change", show);
    if (lat.value && lng.value) show();
  }
});
/* [data-filter-select]: a search box that shows only the options of the named <select>
   whose data-search text holds what was typed (groups with none left are hidden). */
document.querySelectorAll("[data-filter-select]").forEach(function (box) {
  var select = document.getElementById(box.getAttribute("data-filter-select"));
  if (!select) return;
  box.addEventListener("input", function () {
    var words = box.value.trim().toLowerCase();
    select.querySelectorAll("optgroup").forEach(function (group) {
      var shown = 0;
      group.querySelectorAll("option").forEach(function (option) {
        var hit = !words || (option.getAttribute("data-search") || option.textContent)
          .toLowerCase().indexOf(words) >= 0;
        option.hidden = !hit;
        if (hit) shown += 1;
      });
      group.hidden = shown === 0;
    });
  });
});
document.querySelectorAll("[data-caller-history]").forEach(function (slot) {
  var phone = document.getElementById("reporter_phone");
  var text = document.getElementById("description");
  if (!phone) return;
  var timer = null, asked = "";
  function ask() {
    var number = phone.value.replace(/[\s-]/g, "");
    if (number.replace(/\D/g, "").length < 7 || number === asked) return;
    asked = number;
    fetch(slot.getAttribute("data-caller-history") + "?phone=" + encodeURIComponent(phone.value),
          { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) asked = "";  /* ask again on the next keystroke */
        else if (asked === number) slot.innerHTML = html;
      })
      .catch(function () { asked = ""; });
  }
  /* 记为催办: the note carries what the caller says now, as typed when the button is pressed. */
  slot.addEventListener("submit", function (event) {
    var note = event.target.querySelector("[data-urge-prefix]");
    if (note && text && text.value.trim()) {
      note.value = note.getAttribute("data-urge-prefix") + text.value.trim();
    }
  });
  phone.addEventListener("input", function () {
    if (timer) clearTimeout(timer);
    timer = setTimeout(ask, 400);
  });
});
