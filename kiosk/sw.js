/* The kiosk page's service worker: it keeps the page's files and the last
 * questionnaire, so that the page starts, and takes surveys, while sipasd
 * is unreachable. Responses are not its business: sender.js keeps them in
 * IndexedDB, and every POST goes to the network. */
"use strict";

var CACHE = "sipas-kiosk";
var QUESTIONNAIRE = "/v1/questionnaire";
/* The questionnaire too: a page started offline must have one to show. */
var SHELL = ["./", "kiosk.css", "kiosk.js", "sender.js", QUESTIONNAIRE];
/* A server that has not answered by then is as good as gone: the page
 * starts from its copy rather than wait on a dead link. */
var TIMEOUT_MS = 10 * 1000;

self.addEventListener("install", function (event) {
	event.waitUntil(caches.open(CACHE).then(function (c) {
		return c.addAll(SHELL);
	}).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
	event.waitUntil(self.clients.claim());
});

/* A good reply is kept for the next time the server cannot answer; the
 * worker lives until it is written. */
function keep(event, key, reply) {
	if (reply.ok) {
		var copy = reply.clone();
		event.waitUntil(caches.open(CACHE).then(function (c) {
			return c.put(key, copy);
		}));
	}
	return reply;
}

function fetchWithin(req) {
	var abort = new AbortController();
	var timer = setTimeout(function () { abort.abort(); }, TIMEOUT_MS);
	return fetch(req, { signal: abort.signal }).finally(function () {
		clearTimeout(timer);
	});
}

/* The last good questionnaire, or the server's own reply (or an error)
 * when there is none. */
function kept(reply) {
	return caches.match(QUESTIONNAIRE).then(function (r) {
		return r || reply || Response.error();
	});
}

self.addEventListener("fetch", function (event) {
	var req = event.request;
	var url = new URL(req.url);

	if (req.method !== "GET" || url.origin !== self.location.origin)
		return;
	if (url.pathname === QUESTIONNAIRE) {
		/* The server's answer when it has one (a 403 included: the
		 * page must see a revocation); the last good one when it has
		 * none: no answer in time, 429, or 5xx (sipasd overloaded, a
		 * proxy in front of a stopped one). */
		event.respondWith(fetchWithin(req).then(function (r) {
			if (r.status === 429 || r.status >= 500)
				return kept(r);
			return keep(event, QUESTIONNAIRE, r);
		}, function () {
			return kept(null);
		}));
		return;
	}
	if (url.pathname.indexOf("/kiosk/") !== 0)
		return;
	/* The page's files: from the cache at once, so a dead server costs no
	 * wait, refreshed behind it (their ETag makes that a 304 mostly); a
	 * new version shows at the next start. */
	var fresh = fetch(req).then(function (r) { return keep(event, req, r); });
	event.respondWith(caches.match(req, { ignoreSearch: true }).then(function (r) {
		return r || fresh;
	}));
	event.waitUntil(fresh.catch(function () {}));
});
