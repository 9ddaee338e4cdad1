/* gridflow pages: small progressive enhancements, no outside code.
   - [data-live]: follow a server-sent event stream and replace the element's content.
   - [data-locate]: fill latitude / longitude inputs from the device's location.
   - [data-fill]: a button that puts its data-value into the input whose id is data-fill.
   - [data-suggest]: as the caller's words are typed into the data-text field (and the
     data-extra one), POST them to the data-suggest URL about 400 ms after typing stops and
     show the answer's suggestions as [data-fill] buttons for the data-fill-target input. */
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
    if (!navigator.geolocation) { if (status) status.textContent = "—"; return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      document.getElementById(button.getAttribute("data-lat")).value = pos.coords.latitude.toFixed(6);
      document.getElementById(button.getAttribute("data-lng")).value = pos.coords.longitude.toFixed(6);
      if (status) status.textContent = "✓";
    }, function (err) { if (status) status.textContent = err.message; },
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
