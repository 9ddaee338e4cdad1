/* gridflow pages: small progressive enhancements, no outside code.
   - [data-live]: follow a server-sent event stream and replace the element's content.
   - [data-locate]: fill latitude / longitude inputs from the device's location. */
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
