/* The grid worker's report with no signal (/grid): a report whose POST cannot reach the
   server (navigator.onLine false, or fetch rejects) is kept on the phone in IndexedDB, its
   fields and photos as Blobs, and listed under 待发送 (n) with its state (待发送 / 发送中 /
   已发送 / 发送失败: reason). Kept reports are sent when the `online` event fires and on the
   next page load, through the form's own endpoint with this page's CSRF token. Each report
   carries its report_id (the case's external id), so a resend never makes a second case.
   Only the owner's reports are sent: another worker on the same phone never sends them.
   The page itself opens with no signal through the service worker registered here
   (grid_sw.js); such a copy carries an old report_id, so each load starts a new one. */
"use strict";
(function () {
  if ("serviceWorker" in navigator) {
    /* /grid keeps the page; /login forgets it when a login ends (see grid_sw.js) */
    ["/grid", "/login"].forEach(function (scope) {
      navigator.serviceWorker.register("/grid/sw.js", { scope: scope }).catch(function () {});
    });
  }
  var form = document.querySelector("form[data-offline-report]");
  var box = document.getElementById("outbox");
  if (!form || !box || !window.fetch || !window.FormData || !window.Promise) return;
  var list = document.getElementById("outbox-list");
  var count = document.getElementById("outbox-count");
  var status = document.getElementById("outbox-status");
  var sendButton = document.getElementById("outbox-send");
  var owner = box.getAttribute("data-owner") || "";
  var shown = {};  /* id -> record, including the ones sent on this page */
  var busy = false;

  function words(name, values) {
    var text = box.getAttribute("data-" + name) || "";
    Object.keys(values || {}).forEach(function (key) {
      text = text.split("{" + key + "}").join(String(values[key]));
    });
    return text;
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  /* ---- IndexedDB: one store of kept reports, keyed by their report_id ---- */
  var opened = null;
  function db() {
    if (!window.indexedDB) return Promise.reject(new Error("no indexedDB"));
    if (!opened) {
      opened = new Promise(function (resolve, reject) {
        var request = indexedDB.open("gridflow-offline", 1);
        request.onupgradeneeded = function () {
          request.result.createObjectStore("reports", { keyPath: "id" });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return opened;
  }
  function store(mode, work) {
    return db().then(function (base) {
      return new Promise(function (resolve, reject) {
        var tx = base.transaction("reports", mode);
        var answer = work(tx.objectStore("reports"));
        tx.oncomplete = function () { resolve(answer && "result" in answer ? answer.result : undefined); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }
  function put(record) { return store("readwrite", function (s) { return s.put(record); }); }
  function remove(id) { return store("readwrite", function (s) { return s.delete(id); }); }
  function all() { return store("readonly", function (s) { return s.getAll(); }); }

  /* ---- the list on the page ---- */
  function stateText(record) {
    if (record.state === "sending") return words("sending");
    if (record.state === "sent") return words("sent", { id: record.caseId });
    if (record.state === "failed") return words("failed", { reason: record.reason });
    return words("waiting") + (record.reason ? " · " + record.reason : "");
  }
  function render() {
    var records = Object.keys(shown).map(function (id) { return shown[id]; });
    records.sort(function (a, b) { return a.keptAt < b.keptAt ? -1 : 1; });
    list.textContent = "";
    var waiting = 0;
    records.forEach(function (record) {
      if (record.state !== "sent") waiting += 1;
      var li = document.createElement("li");
      li.setAttribute("data-report-id", record.id);
      li.setAttribute("data-state", record.state);
      var title = document.createElement("strong");
      title.textContent = record.label;
      var when = document.createElement("span");
      when.className = "muted";
      when.textContent = " " + new Date(record.keptAt).toLocaleString();
      var state = document.createElement("p");
      state.className = "outbox-state state-" + record.state;
      state.textContent = stateText(record);
      li.appendChild(title);
      li.appendChild(when);
      li.appendChild(state);
      if (record.state === "sent") {
        var link = document.createElement("a");
        link.href = "/cases/" + record.caseId;
        link.textContent = words("open");
        state.appendChild(document.createTextNode(" "));
        state.appendChild(link);
      } else if (record.state === "failed" && !record.retry) {
        var drop = document.createElement("button");
        drop.type = "button";
        drop.className = "danger";
        drop.textContent = words("remove");
        drop.addEventListener("click", function () {
          remove(record.id).then(function () { delete shown[record.id]; render(); });
        });
        li.appendChild(drop);
      }
      list.appendChild(li);
    });
    count.textContent = String(waiting);
    box.hidden = records.length === 0;
    sendButton.hidden = waiting === 0;
  }
  function update(record) {
    shown[record.id] = record;
    render();
    return record.state === "sent" ? remove(record.id) : put(record);
  }

  /* ---- keeping a report the network did not take ---- */
  function keep(data) {
    var record = { id: String(data.get("report_id") || newId()), owner: owner,
      keptAt: new Date().toISOString(), fields: [], files: [], state: "waiting", reason: "", retry: true };
    data.forEach(function (value, name) {
      if (name === "csrf_token" || name === "report_id") return;
      if (value instanceof Blob) {
        if (value.size || value.name) record.files.push({ name: name, blob: value, filename: value.name || "photo" });
      } else {
        record.fields.push([name, value]);
      }
    });
    var picked = form.querySelector("select[name=category] option:checked");
    var text = String(data.get("description") || "");
    record.label = (picked ? picked.textContent + " · " : "") + text.slice(0, 40);
    return put(record).then(function () {
      shown[record.id] = record;
      render();
      status.textContent = words("kept");
      form.reset();
      form.querySelector("input[name=report_id]").value = newId();
      form.querySelectorAll("input[type=file]").forEach(function (input) {
        input.dispatchEvent(new Event("change", { bubbles: true }));  /* "未选择照片" again */
      });
      form.querySelectorAll("[data-filter-select]").forEach(function (input) {
        input.dispatchEvent(new Event("input"));  /* every category offered again */
      });
      box.scrollIntoView();
    }, function () {
      status.textContent = words("no-storage");
    });
  }

  /* ---- sending: the form's endpoint, this page's CSRF token ---- */
  function outcome(response) {
    var url = new URL(response.url, location.href);
    if (url.pathname === "/grid" && url.searchParams.get("reported")) {
      return Promise.resolve({ sent: url.searchParams.get("reported") });
    }
    if (url.pathname === "/login") return Promise.resolve({ expired: true });
    return response.text().then(function (html) {
      var page = new DOMParser().parseFromString(html, "text/html");
      var error = page.querySelector(".error-box p");
      if (error) return { refused: error.textContent.trim() };
      if (response.status === 403) return { expired: true };  /* the CSRF token is stale */
      return { server: response.status };
    });
  }
  function post(record) {
    var data = new FormData();
    data.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
    data.append("report_id", record.id);
    record.fields.forEach(function (pair) { data.append(pair[0], pair[1]); });
    record.files.forEach(function (file) { data.append(file.name, file.blob, file.filename); });
    return fetch(form.action, { method: "POST", body: data, credentials: "same-origin" });
  }
  function sendOne(record) {
    record.state = "sending";
    record.reason = "";
    return update(record).then(function () { return post(record); }).then(outcome).then(function (result) {
      if (result.sent) {
        record.state = "sent";
        record.caseId = result.sent;
        status.textContent = "";  /* "kept with no network" is over */
      } else {
        record.state = "failed";
        record.retry = !result.refused;
        record.reason = result.refused || (result.expired ? words("expired") : words("server", { status: result.server }));
      }
      return update(record).then(function () { return !result.expired; });
    }, function () {
      record.state = "waiting";
      record.reason = words("no-network");
      return update(record).then(function () { return false; });
    });
  }
  function sendAll() {
    if (busy || !navigator.onLine) return Promise.resolve();
    busy = true;
    var queue = Object.keys(shown).map(function (id) { return shown[id]; }).filter(function (record) {
      return record.state !== "sent" && (record.state !== "failed" || record.retry);
    });
    function next() {
      var record = queue.shift();
      if (!record) return Promise.resolve();
      return sendOne(record).then(function (goOn) { return goOn ? next() : undefined; });
    }
    return next().then(function () { busy = false; }, function () { busy = false; });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(form);
    if (!navigator.onLine) { keep(data); return; }
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin" }).then(function (response) {
      var url = new URL(response.url, location.href);
      if (url.pathname === "/grid" && url.searchParams.get("reported")) {
        location.assign(response.url);
      } else {
        form.submit();  /* not taken (a refusal, the login): the page answers as without script */
      }
    }, function () { keep(data); });
  });
  /* A report id is one report: a page opened from the phone's copy (or a form shown again)
     must not give a new report the id of one already kept or filed. */
  form.querySelector("input[name=report_id]").value = newId();
  sendButton.addEventListener("click", sendAll);
  window.addEventListener("online", sendAll);

  all().then(function (records) {
    records.forEach(function (record) {
      if (record.owner !== owner) return;
      if (record.state === "sending") record.state = "waiting";  /* the page closed mid-send */
      shown[record.id] = record;
    });
    render();
    return sendAll();
  }, function () { render(); });
})();
