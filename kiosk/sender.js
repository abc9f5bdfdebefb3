/* The offline queue and its sender. A completed response is written to
 * IndexedDB (durability "strict": on disk before the promise resolves)
 * before the page thanks the person, and stays there until sipasd says it
 * is durable (200, 201, 202): a closed tab, a reload or a crash of the
 * browser loses nothing. Vendors may reuse this file alone: it needs only
 * the protocol (docs/protocol.md) and a page that calls SipasSender. */
"use strict";

var SipasSender = (function () {
	var DB_NAME = "sipas-kiosk";
	var BATCH_MAX = 100;		/* well under the protocol's 500 and 1 MiB */
	var BACKOFF_MIN_MS = 1000;
	/* A minute at most: one request a minute from each kiosk of a
	 * province is nothing for sipasd, and a server back from an outage is
	 * found within that. */
	var BACKOFF_MAX_MS = 60 * 1000;
	/* A request that has not been answered by then is given up and tried
	 * again with the same ids: a dead link must not stall the queue. */
	var REQUEST_TIMEOUT_MS = 30 * 1000;
	/* A Retry-After above an hour is not sipasd's; and setTimeout fires at
	 * once beyond 2^31 ms. */
	var RETRY_AFTER_MAX_S = 3600;
	/* This page load: performance.now() counts from its start, so only
	 * an item completed in it can be dated from that clock. */
	var SESSION = Math.random().toString(36).slice(2) + performance.timeOrigin;

	var db = null;
	var opened = null;	/* start()'s promise of db */
	var offsetMs = null;	/* server clock minus ours, measured this session */
	var failures = 0;	/* in a row, for the backoff */
	var timer = null;
	var running = false;
	var rerun = false;	/* asked to run while running: once more after */
	var holdUntil = 0;	/* performance.now() the server's Retry-After ends */
	var blocked = null;	/* the 403's error: stop until reloaded */
	var state = {
		pending: 0, aside: 0, lastDelivery: null, online: null,
		blocked: null
	};
	var listeners = [];

	function openDb() {
		return new Promise(function (resolve, reject) {
			var req = indexedDB.open(DB_NAME, 1);
			req.onupgradeneeded = function () {
				/* queue: waiting to be sent; aside: refused for good
				 * (400, 409), kept for staff to look at. */
				req.result.createObjectStore("queue", { keyPath: "id" })
				    .createIndex("completedAt", "completedAt");
				req.result.createObjectStore("aside", { keyPath: "id" });
				req.result.createObjectStore("meta");
			};
			req.onsuccess = function () { resolve(req.result); };
			req.onerror = function () { reject(req.error); };
		});
	}

	/* One transaction, once the database is open; resolves once it is
	 * committed, with what fn's last kept request returned. */
	function tx(stores, mode, fn) {
		return opened.then(function () {
			return txOpen(stores, mode, fn);
		});
	}

	function txOpen(stores, mode, fn) {
		return new Promise(function (resolve, reject) {
			var t = db.transaction(stores, mode, { durability: "strict" });
			var result;
			fn(t, function (req) {
				req.onsuccess = function () { result = req.result; };
			});
			t.oncomplete = function () { resolve(result); };
			t.onerror = t.onabort = function () { reject(t.error); };
		});
	}

	function notify() {
		listeners.forEach(function (fn) { fn(state); });
	}

	function count() {
		return tx(["queue", "aside", "meta"], "readonly", function (t) {
			var q = t.objectStore("queue").count();
			var a = t.objectStore("aside").count();
			var m = t.objectStore("meta").get("lastDelivery");
			q.onsuccess = function () { state.pending = q.result; };
			a.onsuccess = function () { state.aside = a.result; };
			m.onsuccess = function () { state.lastDelivery = m.result || null; };
		}).then(notify);
	}

	/* The server's Date has a second's resolution and is truncated: its
	 * middle is half a second on, compared with the middle of our wait.
	 * Only from the sender's own requests, which no cache answers (HEAD
	 * and POST, no-store, which the service worker leaves alone). */
	function measure(reply, sentAt) {
		var d = Date.parse(reply.headers.get("Date") || "");
		if (!isNaN(d))
			offsetMs = d + 500 - (sentAt + Date.now()) / 2;
	}

	/* No redirect is followed: a reply from anywhere but sipasd (a
	 * captive portal, a proxy's login page) must not look like one. */
	function request(method, path, body) {
		var sentAt = Date.now();
		var abort = new AbortController();
		var timeout = setTimeout(function () { abort.abort(); }, REQUEST_TIMEOUT_MS);
		var init = { method: method, cache: "no-store", credentials: "include",
		    redirect: "error", signal: abort.signal };
		if (body !== undefined) {
			init.headers = { "Content-Type": "application/json" };
			init.body = JSON.stringify(body);
		}
		return fetch(path, init).then(function (reply) {
			clearTimeout(timeout);
			state.online = true;
			measure(reply, sentAt);
			return reply;
		}, function (e) {
			clearTimeout(timeout);
			state.online = false;
			throw e;
		});
	}

	/* Retry-After in seconds (the daemon's form), else the backoff:
	 * doubling, capped, with full jitter so that a center's kiosks coming
	 * back together do not all knock at the same instant. */
	function delay(reply) {
		var ra = reply ? parseInt(reply.headers.get("Retry-After"), 10) : NaN;
		if (!isNaN(ra) && ra >= 0) {
			ra = Math.min(ra, RETRY_AFTER_MAX_S);
			holdUntil = performance.now() + ra * 1000;
			return ra * 1000 + Math.random() * 1000;
		}
		var cap = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, failures));
		failures++;
		return cap / 2 + Math.random() * cap / 2;
	}

	function schedule(ms) {
		clearTimeout(timer);
		timer = setTimeout(run, ms);
	}

	/* Something new to send, or the network back: at once, unless the
	 * server asked us to wait (the timer set then stands). */
	function kick() {
		if (performance.now() >= holdUntil)
			schedule(0);
	}

	/* When an item completed without a known offset was completed, on
	 * the server's clock. In this page load, performance.now() has run
	 * steadily since, whatever was done to the wall clock (NTP after
	 * boot). An item of an earlier load has only the wall clock of its
	 * completion: right unless the clock was set between then and now;
	 * never later than the server's now, which sipasd would refuse. */
	function serverTime(it) {
		var now = Date.now() + offsetMs;
		if (it.session === SESSION)
			return now - (performance.now() - it.perfAt);
		return Math.min(it.completedAt + offsetMs, now);
	}

	/* submitted_at is fixed once and stored before the first attempt: a
	 * retry must carry exactly the same content, or the server would see
	 * a different response under the same id. In one transaction that
	 * keeps a time already there (another tab's sender, in a browser
	 * without Web Locks); what was delivered meanwhile is dropped. */
	function fixTimes(items) {
		var missing = items.filter(function (it) { return !it.body.submitted_at; });
		if (missing.length === 0)
			return Promise.resolve(items);
		return tx(["queue"], "readwrite", function (t) {
			var store = t.objectStore("queue");
			missing.forEach(function (it) {
				var at = new Date(serverTime(it)).toISOString();
				var req = store.get(it.id);
				req.onsuccess = function () {
					var cur = req.result;
					if (!cur)
						return;
					if (!cur.body.submitted_at) {
						cur.body.submitted_at = at;
						store.put(cur);
					}
					it.body.submitted_at = cur.body.submitted_at;
				};
			});
		}).then(function () {
			return items.filter(function (it) { return it.body.submitted_at; });
		});
	}

	/* A 2xx counts only when it is sipasd's answer about this item. */
	var DELIVERED = { stored: true, duplicate: true, queued: true };
	function delivered(it, status, reply) {
		return (status === 200 || status === 201 || status === 202) &&
		    reply !== null && typeof reply === "object" && reply.id === it.id &&
		    DELIVERED[reply.status] === true;
	}

	/* What one item's status means: done, aside for staff, or again. */
	function settle(t, it, status, reply) {
		if (delivered(it, status, reply)) {
			t.objectStore("queue").delete(it.id);
			t.objectStore("meta").put(Date.now(), "lastDelivery");
			return "done";
		}
		if (status === 400 || status === 409 || status === 413) {
			t.objectStore("queue").delete(it.id);
			it.status = status;
			it.error = reply;
			t.objectStore("aside").put(it);
			return "aside";
		}
		return "again";
	}

	function deliver(items) {
		var one = items.length === 1;
		var reply;
		return request("POST", one ? "/v1/responses" : "/v1/responses/batch",
		    one ? items[0].body : items.map(function (it) { return it.body; }))
		    .then(function (r) {
			reply = r;
			return r.json().catch(function () { return null; });
		}).then(function (body) {
			if (reply.status === 403) {
				blocked = (body && body.error) || "forbidden";
				return "blocked";
			}
			/* A batch's reply is one entry per item, in order. */
			var results = one ? [{ status: reply.status, body: body }] :
			    reply.status === 200 && Array.isArray(body) &&
			    body.length === items.length && body.every(function (b, i) {
				return b !== null && typeof b === "object" && b.id === items[i].id;
			    }) ?
			    body.map(function (b) {
				return { status: b.status === "stored" ? 201 :
				    b.status === "duplicate" ? 200 :
				    b.status === "queued" ? 202 : b.status, body: b };
			}) : null;
			if (results === null)	/* the batch as a whole: 429, 503, not sipasd's... */
				return { again: true, reply: reply };
			var again = false;
			return tx(["queue", "aside", "meta"], "readwrite", function (t) {
				items.forEach(function (it, i) {
					if (settle(t, it, results[i].status, results[i].body) === "again")
						again = true;
					/* An item of a day its center was closed: the
					 * kiosk must be moved; the item waits for it. */
					if (results[i].status === 403)
						blocked = (results[i].body && results[i].body.error) || "forbidden";
				});
			}).then(function () {
				return blocked ? "blocked" : { again: again, reply: reply };
			});
		});
	}

	function oldest() {
		return tx(["queue"], "readonly", function (t, keep) {
			keep(t.objectStore("queue").index("completedAt").getAll(null, BATCH_MAX));
		});
	}

	/* One round: the clock, measured afresh (the tablet's may have been
	 * set since: see serverTime), then the oldest items, until the queue
	 * is empty or the server asks us to wait. One sender at a time over
	 * the queue, whatever the tabs open on it: two would send the same
	 * item, one of them with another submitted_at. */
	function run() {
		if (blocked)
			return;
		if (running) {
			rerun = true;
			return;
		}
		running = true;
		rerun = false;
		if (navigator.locks)
			navigator.locks.request(DB_NAME + "-sender", round);
		else
			round();
	}

	function round() {
		return request("HEAD", "/v1/questionnaire").then(function (r) {
			if (r.status === 403)
				blocked = "forbidden";
		}).then(function loop() {
			if (blocked)
				return null;
			return oldest().then(function (items) {
				if (items.length === 0)
					return null;
				return fixTimes(items).then(function (fixed) {
					return fixed.length === 0 ? { again: false } : deliver(fixed);
				}).then(function (res) {
					if (res === "blocked")
						return null;
					if (res.again)
						return { wait: delay(res.reply) };
					failures = 0;
					return loop();
				});
			});
		}).catch(function () {
			return { wait: delay(null) };	/* no connection: try again */
		}).then(function (next) {
			running = false;
			state.blocked = blocked;
			if (next && next.wait)
				schedule(next.wait);
			else if (rerun)
				schedule(0);
			return count().catch(function () {});
		});
	}

	function open() {
		opened = openDb().then(function (d) { db = d; });
		return count();
	}

	return {
		/* Opens the queue, without sending: for staff's view of it. */
		open: open,
		/* Opens the queue and starts delivering what it holds. */
		start: function () {
			window.addEventListener("online", kick);
			return open().then(function () { schedule(0); });
		},
		/* Resolves once the response is on disk (the add committed):
		 * only then may the page say thank you. submitted_at is fixed
		 * now when the server's clock is known, else at delivery (see
		 * serverTime). Enqueuing the same response again (a retry after
		 * an error) keeps the one there. */
		enqueue: function (body) {
			var now = Date.now();
			if (offsetMs !== null && !body.submitted_at)
				body.submitted_at = new Date(now + offsetMs).toISOString();
			var it = { id: body.id, completedAt: now, perfAt: performance.now(),
			    session: SESSION, body: body };
			return tx(["queue"], "readwrite", function (t) {
				t.objectStore("queue").add(it);
			}).catch(function (e) {
				if (!e || e.name !== "ConstraintError")
					throw e;
			}).then(function () {
				kick();
				count().catch(function () {});
			});
		},
		/* The responses the server refused for good, for staff. */
		aside: function () {
			return tx(["aside"], "readonly", function (t, keep) {
				keep(t.objectStore("aside").getAll());
			});
		},
		/* fn(state) on every change of the counts or the connection. */
		onChange: function (fn) { listeners.push(fn); },
		state: state
	};
})();
