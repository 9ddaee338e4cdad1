/* The grid worker's page opened with no signal: a service worker served at /grid/sw.js
   (web/pages/grid.py, with Service-Worker-Allowed) and registered twice by grid_offline.js.

   Scope /grid keeps the page and the files it loads in one cache. The page is network-first:
   a worker online always gets a fresh page (and the cache its copy); with no network the
   last copy opens, and its form keeps reports on the phone (grid_offline.js). The static
   files are network-first too, from the cache when the network fails.

   Scope /login forgets that copy: every logout and every expired session ends on /login, so
   the next person on the phone never sees the last worker's tasks. A /grid page the server
   no longer gives (the login asked for, another role) forgets it as well. */
"use strict";

var CACHE = "gridflow-grid-v1";
var PAGE = "/grid";
/* Every file /grid loads (web/templates/base.html, grid/grid.html); tests/test_grid_sw.py
   checks the list against the page. The categories and the map are in the page itself. */
var ASSETS = [
  "/static/gridflow.css",
  "/static/pages.css",
  "/static/nav.css",
  "/static/print.css",
  "/static/favicon.svg",
  "/static/gridflow.js",
  "/static/grid_offline.js"
];
var KEEPER = new URL(self.registration.scope).pathname === PAGE;

function forget() {
  return caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("gridflow-grid") === 0;
    }).map(function (name) { return caches.delete(name); }));
  });
}

function keep(key, response) {
  return caches.open(CACHE).then(function (cache) { return cache.put(key, response); });
}

function kept(key, error) {
  return caches.open(CACHE).then(function (cache) { return cache.match(key); }).then(function (found) {
    return found || Promise.reject(error);
  });
}

/* A copy worth keeping: the worker's own page, not a notice about a report just sent. */
function keepable(response, url) {
  return response.ok && !response.redirected && !url.searchParams.has("reported");
}

function page(event, url) {
  return fetch(event.request).then(function (response) {
    if (keepable(response, url)) {
      event.waitUntil(keep(PAGE, response.clone()));
    } else if (response.type === "opaqueredirect" || response.status === 403) {
      event.waitUntil(forget());  /* signed out, or not a grid worker: nobody's page stays */
    }
    return response;
  }, function (error) { return kept(PAGE, error); });
}

function asset(event, path) {
  return fetch(event.request).then(function (response) {
    if (response.ok) event.waitUntil(keep(path, response.clone()));
    return response;
  }, function (error) { return kept(path, error); });
}

self.addEventListener("install", function (event) {
  if (!KEEPER) { self.skipWaiting(); return; }
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    /* the page that registered us was not served through us: keep its copy now */
    var first = fetch(PAGE, { credentials: "same-origin" }).then(function (response) {
      if (keepable(response, new URL(response.url))) return cache.put(PAGE, response);
    }, function () {});
    return Promise.all([cache.addAll(ASSETS), first]);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("gridflow-grid") === 0 && name !== CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (!KEEPER) {
    if (request.mode === "navigate") event.waitUntil(forget());  /* /login: a login ended */
    return;
  }
  if (request.mode === "navigate" && url.pathname === PAGE) {
    event.respondWith(page(event, url));
  } else if (ASSETS.indexOf(url.pathname) >= 0) {
    event.respondWith(asset(event, url.pathname));
  }
});
