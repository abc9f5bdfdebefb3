// Drives Debian's chromium (headless, through the DevTools protocol with
// puppeteer-core) on the kiosk page, for tests/integration/test_kiosk_page.py:
// it reads one JSON command a line on stdin and answers one JSON line on
// stdout, so the Python test can stop and start sipasd between steps and
// check PostgreSQL. Nothing here is downloaded: the browser is the
// system's, puppeteer-core and axe-core come from node_modules.
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

// node_modules beside this file, or SIPAS_NODE_MODULES (distcheck's tests
// run from the tarball, which has none).
const modules = process.env.SIPAS_NODE_MODULES ||
	fileURLToPath(new URL("./node_modules", import.meta.url));
const require = createRequire(modules + "/");
const puppeteer = require("puppeteer-core");
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const VIEW = { width: 800, height: 1280, hasTouch: true, isMobile: false, deviceScaleFactor: 1 };

let browser = null;
let page = null;
let opts = null;
let posts = [];	/* the paths of the POSTs sipasd answered, since launch */

async function launch(o) {
	opts = o;
	browser = await puppeteer.launch({
		executablePath: o.chromium,
		headless: true,
		userDataDir: o.profile,
		defaultViewport: VIEW,
		// HOME holds the NSS database with the kiosk's key and the CA.
		env: { ...process.env, HOME: o.home },
		args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
			"--disable-extensions", "--disable-dev-shm-usage", "--disable-background-networking",
			"--disable-component-update", "--disable-sync", "--lang=vi"],
	});
	page = await browser.newPage();
	posts = [];
	page.on("response", (r) => {
		if (r.request().method() === "POST")
			posts.push(new URL(r.url()).pathname);
	});
	if (o.clockOffsetMs) {
		// The tablet's clock, o.clockOffsetMs off: Date in every document
		// of the page, before its scripts run; the "clock" command sets
		// it again (NTP correcting the tablet's clock).
		await page.evaluateOnNewDocument((off) => {
			const Real = Date;
			globalThis.__sipasClockOffset = off;
			class Shifted extends Real {
				constructor(...a) {
					if (a.length === 0) super(Real.now() + globalThis.__sipasClockOffset);
					else super(...a);
				}
				static now() { return Real.now() + globalThis.__sipasClockOffset; }
			}
			globalThis.Date = Shifted;
		}, o.clockOffsetMs);
	}
	await page.goto(o.url, { waitUntil: "load" });
	return { screen: await screen() };
}

async function screen() {
	return page.evaluate(() => document.getElementById("screen").getAttribute("data-screen"));
}

async function waitScreen(name, timeout = 30000) {
	await page.waitForFunction((n) => {
		const s = document.getElementById("screen").getAttribute("data-screen");
		return n === "*" ? s !== null : s === n;
	}, { timeout }, name);
	return screen();
}

async function tap(selector) {
	const h = await page.waitForSelector(selector, { timeout: 10000 });
	await h.tap();
}

async function axe() {
	// Runtime.evaluate is not the page's own script: the page's CSP, which
	// forbids inline script, does not apply to it.
	await page.evaluate(AXE);
	const r = await page.evaluate(() => axe.run(document, { resultTypes: ["violations"] }));
	return r.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n) => n.html) }));
}

async function shot(dir, name) {
	await page.screenshot({ path: `${dir}/${name}.png`, fullPage: true });
}

// One survey, touched through: the screens in the order the page shows
// them, each answered from s. With audit, axe-core runs on every screen
// and screenshots are taken.
async function survey(s, audit) {
	const seen = [];
	const violations = {};
	let name = await waitScreen("start");
	for (let guard = 0; guard < 40; guard++) {
		name = await screen();
		if (name === "saving") {	/* until the response is on disk */
			await page.waitForFunction(() => document.getElementById("screen")
				.getAttribute("data-screen") === "thanks", { polling: "mutation", timeout: 30000 });
			continue;
		}
		if (!seen.includes(name))
			seen.push(name);
		if (audit && audit.axe)
			violations[name] = await axe();
		if (audit && audit.shots)
			await shot(audit.shots, name);
		if (name === "thanks" && audit && audit.crashAtThanks) {
			browser.process().kill("SIGKILL");
			browser = null;
			return { seen, violations, screen: name };
		}
		if (name === "thanks")
			break;
		if (name === "start") {
			await tap('[data-action="start"]');
		} else {
			const keys = await page.$$eval("fieldset[data-key]", (fs) => fs.map((f) => f.dataset.key));
			for (const k of keys) {
				const v = k === "service_area" ? s.service_area
					: k.startsWith("r.") ? (s.respondent || {})[k.slice(2)]
					: k in s.answers ? s.answers[k] : s[k];
				if (v === undefined)
					continue;
				await tap(`fieldset[data-key="${k}"] label[data-value="${v === null ? "na" : v}"]`);
			}
			if (s.comment && name === "overall")
				await page.type("#comment", s.comment);
			await tap('[data-action="next"]');
		}
		await page.waitForFunction((n) => document.getElementById("screen").getAttribute("data-screen") !== n,
			{ timeout: 30000 }, name);
	}
	return { seen, violations, screen: await screen() };
}

async function status() {
	return page.evaluate(() => {
		const s = document.getElementById("status");
		return { text: s.textContent, pending: Number(s.dataset.pending), aside: Number(s.dataset.aside) };
	});
}

const commands = {
	launch: (c) => launch(c),
	screen: async () => ({ screen: await screen() }),
	wait: async (c) => ({ screen: await waitScreen(c.screen, c.timeout) }),
	survey: (c) => survey(c.survey, c.audit),
	axe: async () => ({ violations: await axe() }),
	shot: async (c) => {
		if (c.zoom) // a 200 % zoom: half the CSS pixels, each drawn twice as large
			await page.setViewport({ ...VIEW, width: VIEW.width / c.zoom, height: VIEW.height / c.zoom,
				deviceScaleFactor: c.zoom });
		await shot(c.dir, c.name);
		const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
		await page.setViewport(VIEW);
		return { overflow };
	},
	status: () => status(),
	// The tablet's clock set off by c.offsetMs from now on, in this
	// document and those loaded later.
	clock: async (c) => {
		opts.clockOffsetMs = c.offsetMs;
		await page.evaluate((off) => { globalThis.__sipasClockOffset = off; }, c.offsetMs);
		return {};
	},
	// Whether the browser keeps the page's storage against eviction.
	persisted: async () => ({ persisted: await page.evaluate(() => navigator.storage.persisted()) }),
	posts: async () => ({ posts }),
	// What the page's queue holds: id and completion time (its clock).
	queue: async () => ({ items: await page.evaluate(() => new Promise((resolve, reject) => {
		const open = indexedDB.open("sipas-kiosk");
		open.onsuccess = () => {
			const req = open.result.transaction("queue").objectStore("queue").getAll();
			req.onsuccess = () => resolve(req.result.map((it) => ({ id: it.id, completedAt: it.completedAt })));
			req.onerror = () => reject(req.error);
		};
		open.onerror = () => reject(open.error);
	})) }),
	// Responses put in the queue through the page's own sender, as the
	// page does at the end of a survey; all at once, so that the sender
	// finds them together.
	enqueue: async (c) => {
		await page.evaluate((bodies) => Promise.all(bodies.map((b) => SipasSender.enqueue(b))), c.bodies);
		return {};
	},
	aside: async () => ({ items: await page.evaluate(() => SipasSender.aside()) }),
	waitStatus: async (c) => {
		await page.waitForFunction((want) => {
			const s = document.getElementById("status");
			return Object.keys(want).every((k) => s.dataset[k] === String(want[k]));
		}, { timeout: c.timeout || 60000 }, c.want);
		return status();
	},
	reload: async () => {
		await page.reload({ waitUntil: "load" });
		return { screen: await waitScreen("*") };
	},
	// The service worker installed and controlling the page (it claims
	// the page it was registered from once active).
	offlineReady: async () => {
		await page.waitForFunction(() => navigator.serviceWorker.controller !== null, { timeout: 60000 });
		return {};
	},
	goto: async (c) => {
		await page.goto(new URL(c.query, opts.url).href, { waitUntil: "load" });
		return { screen: await waitScreen("*") };
	},
	touch: async () => { await tap("main h1"); return {}; },
	tap: async (c) => { await tap(c.selector); return {}; },
	keys: async (c) => {
		for (const k of c.keys)
			await page.keyboard.press(k);
		return {};
	},
	// What has the keyboard's focus.
	focused: async () => ({ focused: await page.evaluate(() => {
		const e = document.activeElement;
		return { tag: e.tagName, action: e.dataset.action || null, type: e.type || null,
			checked: e.checked === true, text: e.textContent };
	}) }),
	text: async (c) => ({ text: await page.$eval(c.selector, (e) => e.textContent) }),
	count: async (c) => ({ count: (await page.$$(c.selector)).length }),
	close: async () => { await browser.close(); browser = null; return {}; },
	// A crash: the browser killed, nothing flushed on the way out.
	crash: async () => { browser.process().kill("SIGKILL"); browser = null; return {}; },
	reopen: async () => launch(opts),
	quit: async () => { if (browser) await browser.close(); setTimeout(() => process.exit(0), 10); return {}; },
};

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
	const c = JSON.parse(line);
	let out;
	try {
		out = { ok: true, ...(await commands[c.cmd](c)) };
	} catch (e) {
		out = { ok: false, error: String(e && e.stack || e) };
	}
	process.stdout.write(JSON.stringify(out) + "\n");
}
if (browser)
	await browser.close();
