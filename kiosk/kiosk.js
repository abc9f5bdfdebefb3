/* The kiosk page's screens: start, service area, who served the person
 * (when the center has counters or officers), one screen per element of
 * the questionnaire, the overall rating and comment, the optional
 * respondent questions, thanks. Everything the server sends is put into
 * the page as text (textContent), never as markup. */
"use strict";

(function () {
	var IDLE_DEFAULT_S = 60;
	var IDLE_MAX_S = 3600;	/* setTimeout fires at once beyond 2^31 ms */
	var THANKS_S = 8;
	var RESPONDENT = [
		["gender", "Giới tính", [["male", "Nam"], ["female", "Nữ"], ["other", "Khác"]]],
		["age_group", "Độ tuổi", [["18-25", "18–25"], ["26-34", "26–34"],
		    ["35-49", "35–49"], ["50-60", "50–60"], ["60+", "Trên 60"]]]
	];

	var main = document.getElementById("screen");
	var statusLine = document.getElementById("status");
	var q = null;		/* the questionnaire and the kiosk's context */
	var fresh = null;	/* a newer one, taken at the next survey's start */
	var pending = null;	/* the response being saved: one id, retried as is */
	var notDurable = false;	/* the browser refused persistent storage */
	var steps = [];		/* the screens of one survey, in order */
	var step = 0;
	var answers = {};	/* the person's, cleared at every start */
	var idleTimer = null;

	/* The page's settings: ?idle=30 once, kept in localStorage. */
	function idleSeconds() {
		var m = /[?&]idle=(\d+)/.exec(location.search);
		if (m)
			localStorage.setItem("sipas.idle", m[1]);
		var v = parseInt(localStorage.getItem("sipas.idle"), 10);
		return v > 0 ? Math.min(v, IDLE_MAX_S) : IDLE_DEFAULT_S;
	}

	function el(tag, attrs, children) {
		var e = document.createElement(tag);
		Object.keys(attrs || {}).forEach(function (k) {
			if (k === "text")
				e.textContent = attrs[k];
			else if (k === "onclick")
				e.addEventListener("click", attrs[k]);
			else
				e.setAttribute(k, attrs[k]);
		});
		(children || []).forEach(function (c) { if (c) e.appendChild(c); });
		return e;
	}

	/* A new screen: the old one's content is gone from the page, and the
	 * heading takes the focus so a screen reader reads it first. */
	function show(name, title, children) {
		main.replaceChildren(el("h1", { tabindex: "-1", text: title }));
		main.setAttribute("data-screen", name);
		children.forEach(function (c) { if (c) main.appendChild(c); });
		main.querySelector("h1").focus();
	}

	/* One question as a radio group: native radios keep keyboards and
	 * screen readers working; the label is the big touch target, and a
	 * selected one is marked with a check and a heavier border, not only
	 * a colour. */
	function choiceGroup(key, legend, options, allowNa) {
		var fs = el("fieldset", { "data-key": key }, [el("legend", { text: legend })]);
		var box = el("div", { "class": "choices" });
		options.concat(allowNa ? [{ value: null, label: "Không áp dụng", na: true }] : [])
		    .forEach(function (o) {
			var id = "c-" + key + "-" + (o.value === null ? "na" : o.value);
			var input = el("input", { type: "radio", name: key, id: id });
			var label = el("label", { "for": id, "class": "choice" + (o.na ? " na" : "") },
			    [input, o.dots ? el("span", { "class": "value", text: String(o.value) }) : null,
			    el("span", { text: o.label }),
			    o.dots ? el("span", { "class": "dots", "aria-hidden": "true", text: o.dots }) : null,
			    el("span", { "class": "mark", "aria-hidden": "true", text: "✓ đã chọn" })]);
			label.setAttribute("data-value", o.value === null ? "na" : String(o.value));
			input.checked = answers.hasOwnProperty(key) && answers[key] === o.value;
			if (input.checked)
				label.classList.add("selected");
			input.addEventListener("change", function () {
				answers[key] = o.value;
				box.querySelectorAll(".choice").forEach(function (c) {
					c.classList.toggle("selected", c === label);
				});
				fs.classList.remove("missing");
			});
			box.appendChild(label);
		});
		fs.appendChild(box);
		return fs;
	}

	/* The scale's own labels, with its value and as many dots as the
	 * value: the order reads the same without colour or words. */
	function scaleOptions() {
		var max = q.scale.max;
		return q.scale.levels.map(function (l) {
			return { value: l.value, label: l.label_vi,
			    dots: "●".repeat(l.value) + "○".repeat(max - l.value) };
		});
	}

	function nav(required, nextLabel) {
		var err = el("p", { "class": "error", role: "alert" });
		var back = step > 0 ? el("button", { type: "button", "class": "secondary", text: "Quay lại",
		    onclick: function () { go(step - 1); } }) : null;
		var next = el("button", { type: "button", "data-action": "next", text: nextLabel || "Tiếp tục",
		    onclick: function () {
			var missing = required.filter(function (k) { return !answers.hasOwnProperty(k); });
			if (missing.length === 0)
				return go(step + 1);
			err.textContent = "Xin vui lòng trả lời câu hỏi được đánh dấu.";
			missing.forEach(function (k) {
				main.querySelector('fieldset[data-key="' + k + '"]').classList.add("missing");
			});
			main.querySelector('fieldset[data-key="' + missing[0] + '"] input').focus();
		} });
		return [err, el("div", { "class": "actions" }, [back, next])];
	}

	function progress() {
		return el("p", { "class": "progress", text: "Bước " + step + " / " + (steps.length - 2) });
	}

	function screenStart() {
		answers = {};
		show("start", q.name_vi, [
			el("p", { text: "Xin mời Ông/Bà dành ít phút cho biết mức độ hài lòng về dịch vụ hành chính công. Phiếu không ghi tên." }),
			q.center ? el("p", { text: q.center.name }) : null,
			el("div", { "class": "actions" }, [el("button", { type: "button", "class": "big", "data-action": "start",
			    text: "Bắt đầu đánh giá", onclick: function () { go(1); } })])
		]);
	}

	function screenArea() {
		var opts = q.service_areas.map(function (a) { return { value: a.code, label: a.name_vi }; });
		show("area", "Lĩnh vực thủ tục", [progress(),
		    choiceGroup("service_area", "Ông/Bà đến giải quyết thủ tục thuộc lĩnh vực nào?", opts, false)]
		    .concat(nav(["service_area"])));
	}

	/* The officers who may have served at counter (all of the center's
	 * when none is known): those posted there and those at no counter. */
	function officerGroup(counter) {
		var officers = (q.officers || []).filter(function (o) {
			return !counter || !o.counter || o.counter === counter;
		});
		if (!officers.some(function (o) { return o.code === answers.officer; }))
			delete answers.officer;
		if (officers.length === 0)
			return el("div", { "data-key": "officer" });
		return choiceGroup("officer", "Công chức nào đã tiếp nhận hồ sơ của Ông/Bà?",
		    officers.map(function (o) { return { value: o.code, label: o.full_name }; }), false);
	}

	/* Who served the person: the counter (unless the kiosk is fixed to
	 * one), then the officers of that counter; both may be skipped. */
	function screenServed() {
		var parts = [progress()];
		var officers = officerGroup(q.counter ? q.counter.code : answers.counter);
		if (!q.counter && (q.counters || []).length > 0) {
			var counters = choiceGroup("counter", "Ông/Bà được phục vụ tại quầy nào?",
			    q.counters.map(function (c) { return { value: c.code, label: c.name }; }), false);
			/* Only the officers' list changes: the focus stays where it is. */
			counters.addEventListener("change", function () {
				var next = officerGroup(answers.counter);
				officers.replaceWith(next);
				officers = next;
			});
			parts.push(counters);
		}
		parts.push(officers, el("p", { text: "Có thể bỏ qua nếu Ông/Bà không nhớ." }));
		show("served", "Nơi và người phục vụ", parts.concat(nav([])));
	}

	function screenElement(e) {
		var codes = e.criteria.map(function (c) { return c.code; });
		show("element-" + e.code, e.name_vi, [progress()].concat(e.criteria.map(function (c) {
			return choiceGroup(c.code, c.text_vi, scaleOptions(), true);
		})).concat(nav(codes)));
	}

	function screenOverall() {
		var comment = el("textarea", { id: "comment", rows: "3", maxlength: "600" });
		comment.value = answers.comment || "";
		comment.addEventListener("input", function () { answers.comment = comment.value; });
		show("overall", "Đánh giá chung", [progress(),
		    choiceGroup("overall", "Nhìn chung, Ông/Bà hài lòng ở mức nào? (không bắt buộc)", scaleOptions(), false),
		    el("label", { "for": "comment", "class": "field", text: "Góp ý thêm (không bắt buộc)" }), comment]
		    .concat(nav([])));
	}

	function screenRespondent() {
		show("respondent", "Thông tin người trả lời (không bắt buộc)", [progress()]
		    .concat(RESPONDENT.map(function (r) {
			return choiceGroup("r." + r[0], r[1], r[2].map(function (o) {
				return { value: o[0], label: o[1] };
			}), false);
		})).concat(nav([], "Gửi đánh giá")));
	}

	function uuid4() {
		var b = crypto.getRandomValues(new Uint8Array(16));
		b[6] = (b[6] & 0x0f) | 0x40;
		b[8] = (b[8] & 0x3f) | 0x80;
		var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
		return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
	}

	function response() {
		var r = { id: uuid4(), questionnaire: q.code, service_area: answers.service_area, answers: {} };
		q.elements.forEach(function (e) {
			e.criteria.forEach(function (c) { r.answers[c.code] = answers[c.code]; });
		});
		if (answers.overall !== undefined)
			r.overall = answers.overall;
		if (answers.comment && answers.comment.trim())
			r.comment = answers.comment.trim();
		var counter = q.counter ? q.counter.code : answers.counter;
		if (counter)
			r.counter = counter;
		if (answers.officer)
			r.officer = answers.officer;
		var who = {};
		RESPONDENT.forEach(function (x) {
			if (answers["r." + x[0]] !== undefined)
				who[x[0]] = answers["r." + x[0]];
		});
		if (Object.keys(who).length > 0)
			r.respondent = who;
		return r;
	}

	/* Thanks only once the response is on disk. A retry saves the same
	 * response, its id included: never two of one person's answers. */
	function screenSubmit() {
		show("saving", "Đang lưu…", []);
		pending = pending || response();
		SipasSender.enqueue(pending).then(function () {
			answers = {};
			pending = null;
			show("thanks", "Xin cảm ơn Ông/Bà!", [
				el("p", { text: "Ý kiến của Ông/Bà đã được ghi nhận." }),
				el("div", { "class": "actions" }, [el("button", { type: "button", "data-action": "done",
				    text: "Về màn hình đầu", onclick: function () { go(0); } })])]);
			idle(THANKS_S);
		}, function (e) {
			show("error", "Không lưu được phiếu", [el("p", { text: String(e) }),
			    el("button", { type: "button", text: "Thử lại", onclick: screenSubmit })]);
		});
	}

	/* A kiosk the server refuses stops at the administrator's screen,
	 * but not in the middle of a person's survey: what they answer is
	 * kept in the queue all the same. */
	function go(n) {
		step = n;
		if (n === 0) {
			pending = null;
			refresh();
		}
		if (n === 0 && SipasSender.state.blocked)
			return screenAdmin(SipasSender.state.blocked);
		if (n === 1 && fresh) {
			q = fresh;
			fresh = null;
			buildSteps();
		}
		steps[n]();
		idle(idleSeconds());
	}

	/* Privacy at a public counter: back to the start, the answers
	 * forgotten, after a while without a touch. */
	function idle(seconds) {
		clearTimeout(idleTimer);
		if (step !== 0)
			idleTimer = setTimeout(function () { go(0); }, seconds * 1000);
	}

	function screenAdmin(why) {
		clearTimeout(idleTimer);
		show("admin", "Xin vui lòng gọi quản trị viên", [
			el("p", { text: "Máy đánh giá này chưa được cấp phép hoặc đã bị thu hồi, nên không gửi được phiếu." }),
			el("p", { text: "Mã lỗi: " + why })]);
	}

	/* For staff, at /kiosk/?staff: what the server refused for good and
	 * the page keeps, with the server's reason, to be fixed by hand. */
	function screenStaff() {
		SipasSender.aside().then(function (items) {
			var rows = items.map(function (it) {
				var e = it.error || {};
				return el("tr", {}, [el("td", { text: it.id }), el("td", { text: String(it.status) }),
				    el("td", { text: [e.error, e.field, e.message].filter(Boolean).join(" · ") }),
				    el("td", { text: new Date(it.completedAt).toLocaleString("vi-VN") })]);
			});
			var head = el("tr", {}, ["Mã phiếu", "Mã lỗi", "Lý do", "Hoàn thành lúc"].map(function (h) {
				return el("th", { scope: "col", text: h });
			}));
			show("staff", "Phiếu bị máy chủ từ chối", [
				el("p", { text: items.length === 0 ? "Không có phiếu nào." :
				    "Các phiếu này không được gửi lại tự động. Báo cho quản trị viên để xử lý." }),
				el("table", {}, [el("thead", {}, [head]), el("tbody", {}, rows)])]);
		});
	}

	function buildSteps() {
		steps = [screenStart, screenArea];
		/* Skipped when there is nothing to ask: a kiosk fixed to a
		 * counter, or a center without counters, and no officer who
		 * could have served there. */
		var fixed = q.counter ? q.counter.code : null;
		var askCounter = !fixed && (q.counters || []).length > 0;
		var officers = (q.officers || []).filter(function (o) {
			return !fixed || !o.counter || o.counter === fixed;
		});
		if (askCounter || officers.length > 0)
			steps.push(screenServed);
		q.elements.forEach(function (e) { steps.push(function () { screenElement(e); }); });
		steps.push(screenOverall, screenRespondent, screenSubmit);
	}

	function showStatus(s) {
		if (s.blocked && step === 0)
			screenAdmin(s.blocked);
		var parts = ["Chờ gửi: " + s.pending];
		if (s.aside > 0)
			parts.push("Bị từ chối, cần kiểm tra: " + s.aside);
		parts.push("Gửi lần cuối: " + (s.lastDelivery ? new Date(s.lastDelivery).toLocaleString("vi-VN") : "chưa"));
		parts.push(s.online === false ? "Mất kết nối máy chủ" : s.online ? "Đã kết nối" : "Đang kết nối");
		if (notDurable)
			parts.push("Trình duyệt không cho lưu bền vững: phiếu chờ gửi có thể bị xoá khi máy thiếu bộ nhớ");
		statusLine.textContent = parts.join(" · ");
		statusLine.setAttribute("data-pending", String(s.pending));
		statusLine.setAttribute("data-aside", String(s.aside));
	}

	/* Not a clock for the sender: offline, this reply is the service
	 * worker's copy, and its Date that of the day it was kept. */
	function load() {
		return fetch("/v1/questionnaire", { credentials: "include" }).then(function (r) {
			if (r.status === 403)
				return r.json().then(function (b) { throw { admin: b.error }; });
			if (!r.ok)
				throw new Error("HTTP " + r.status);
			return r.json();
		});
	}

	/* The organisation changes under a running page (an officer or the
	 * kiosk moved): at each start screen the questionnaire is asked for
	 * again, behind it, and taken when the next person starts; a failure
	 * keeps the one there. Not while a survey is under way: its screens
	 * are built from one questionnaire. */
	function refresh() {
		load().then(function (doc) { fresh = doc; }, function () {});
	}

	/* The queue is the one copy of what was thanked for until sent: the
	 * browser must not evict it when the disk fills. Staff are told when
	 * it says no. */
	function persist() {
		if (!navigator.storage || !navigator.storage.persist)
			return;
		navigator.storage.persist().then(function (granted) {
			notDurable = !granted;
			showStatus(SipasSender.state);
		}, function () {});
	}

	function start() {
		document.addEventListener("pointerdown", function () { idle(idleSeconds()); }, true);
		document.addEventListener("keydown", function () { idle(idleSeconds()); }, true);
		SipasSender.onChange(showStatus);
		if ("serviceWorker" in navigator)
			navigator.serviceWorker.register("sw.js", { scope: "./" });
		/* Staff's view only reads the queue: the kiosk's tab sends it. */
		var staff = /[?&]staff\b/.test(location.search);
		var opened = staff ? SipasSender.open() : SipasSender.start();
		opened.catch(function (e) {
			statusLine.textContent = "Không mở được bộ nhớ của trình duyệt: " + e;
		});
		persist();
		if (staff)
			return opened.then(screenStaff);
		begin();
	}

	/* The questionnaire, from the server or the service worker's copy;
	 * without either, the page says so and asks again. */
	function begin() {
		load().then(function (doc) {
			q = doc;
			buildSteps();
			go(0);
		}, function (e) {
			if (e && e.admin)
				return screenAdmin(e.admin);
			show("offline", "Chưa tải được phiếu khảo sát", [el("p", { text: "Đang thử lại…" })]);
			setTimeout(begin, 5000);
		});
	}

	start();
})();
