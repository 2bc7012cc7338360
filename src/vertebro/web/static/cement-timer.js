// Cement timer per level (procedure mode, decision 0034). The times are kept on the server (the level's record):
// this script only counts on from the state the page (or the last answer) gave, posts the buttons in the
// background so the record's form keeps what was typed, colours the phase, and announces only phase changes
// and the alert through one polite live region (never every second).
(function () {
  "use strict";
  var announcer = document.getElementById("timer-announce");
  var sound = document.getElementById("timer-sound");
  var group = document.querySelector(".cement-timers");
  var warnMin = group ? parseFloat(group.dataset.warnMin || "1") : 1;

  function mmss(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function say(text) {
    if (!announcer) { return; }
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function beep() {
    if (!sound || !sound.checked) { return; }
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    var context = new Context();
    var tone = context.createOscillator();
    tone.frequency.value = 880;
    tone.connect(context.destination);
    tone.start();
    tone.stop(context.currentTime + 0.4);
  }

  function phaseAt(phases, minutes) {
    for (var i = 0; i < phases.length; i += 1) {
      if (minutes >= phases[i].start_min && minutes < phases[i].end_min) { return phases[i]; }
    }
    return null;
  }

  function Timer(box) {
    this.box = box;
    this.level = box.dataset.level;
    this.phases = JSON.parse(box.dataset.phases || "[]");
    this.form = box.querySelector("form.timer-actions");
    this.load({
      started: box.dataset.started === "1",
      paused: box.dataset.paused === "1",
      elapsed_s: parseFloat(box.dataset.elapsed || "0"),
      since_mixing_s: parseFloat(box.dataset.since || "0")
    }, false);
    var self = this;
    if (this.form) { this.form.addEventListener("submit", function (event) { self.submit(event); }); }
  }

  Timer.prototype.load = function (state, announce) {
    this.started = state.started;
    this.paused = state.paused;
    this.base = state.elapsed_s;
    this.sinceBase = state.since_mixing_s;
    this.at = performance.now();
    if (!announce) {
      this.phase = this.box.dataset.phase;
      this.warned = this.box.dataset.warning === "1";
    }
    this.render();
  };

  Timer.prototype.elapsed = function () {
    var more = this.started && !this.paused ? (performance.now() - this.at) / 1000 : 0;
    return this.base + more;
  };

  Timer.prototype.render = function () {
    var box = this.box;
    var seconds = this.elapsed();
    var since = this.sinceBase + (this.started ? (performance.now() - this.at) / 1000 : 0);
    var current = this.started ? phaseAt(this.phases, seconds / 60) : null;
    var name = !this.started ? "not started" : current ? current.name : "set";
    var left = current ? current.end_min * 60 - seconds : null;
    var warning = current !== null && current.name === "working" && left <= warnMin * 60;
    box.querySelector(".timer-time").textContent = mmss(seconds);
    box.querySelector(".timer-phase").textContent = name + (left !== null ? ", " + mmss(left) + " left" : "");
    box.querySelector(".timer-paused").hidden = !this.paused;
    box.querySelector(".timer-since").textContent = mmss(since);
    box.querySelector(".timer-hint").hidden = this.started;
    box.querySelector(".timer-real").hidden = !this.started;
    var marker = box.querySelector(".bar-now");
    if (marker) {
      var total = this.phases.length ? this.phases[this.phases.length - 1].end_min : 0;
      var x = String(Math.min(seconds / 60, total));
      marker.setAttribute("x1", x);
      marker.setAttribute("x2", x);
    }
    box.querySelector(".timer-warning").hidden = !warning;
    var phaseKey = name.replace(" ", "-");
    if (phaseKey !== this.phase) {
      if (this.phase !== undefined && this.started) { say(this.level + ": " + name + " phase"); }
      this.phase = phaseKey;
      box.dataset.phase = phaseKey;
    }
    if (warning && !this.warned) {
      say(this.level + ": working time ends in under " + warnMin + " minute" + (warnMin === 1 ? "" : "s"));
      beep();
    }
    this.warned = warning;
    if (warning) { box.dataset.warning = "1"; } else { delete box.dataset.warning; }
  };

  Timer.prototype.buttons = function (state) {
    var show = {
      ".timer-start": !state.started,
      ".timer-pause": state.started && !state.paused,
      ".timer-resume": state.paused,
      ".timer-inject-start": state.started && !state.times.injection_started_at,
      ".timer-inject-end": Boolean(state.times.injection_started_at) && !state.times.injection_ended_at
    };
    var form = this.form;
    Object.keys(show).forEach(function (selector) { form.querySelector(selector).hidden = !show[selector]; });
    var text = state.times_text || {};
    [["time-mixed", "mixed_at"], ["time-inject-start", "injection_started_at"], ["time-inject-end", "injection_ended_at"]]
      .forEach(function (pair) {
        this.box.querySelector("." + pair[0]).textContent = text[pair[1]] || "not recorded";
      }, this);
    this.box.querySelector(".time-paused").textContent = mmss(state.paused_s || 0);
  };

  Timer.prototype.submit = function (event) {
    if (!window.fetch || !event.submitter) { return; }
    event.preventDefault();
    var self = this;
    var body = new FormData(this.form);
    body.append("action", event.submitter.value);
    event.submitter.disabled = true;
    fetch(this.form.getAttribute("action"), { method: "POST", body: body, headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      })
      .then(function (answer) {
        event.submitter.disabled = false;
        if (!answer.ok) { say(self.level + ": " + (answer.data.detail || "not saved")); return; }
        self.load(answer.data, true);
        self.buttons(answer.data);
        var next = self.form.querySelector("button:not([hidden])");
        if (next) { next.focus(); }
      })
      .catch(function () {
        event.submitter.disabled = false;
        say(self.level + ": the timer could not be saved; check the connection");
      });
  };

  var timers = Array.prototype.map.call(document.querySelectorAll(".cement-timer"), function (box) {
    return new Timer(box);
  });
  if (timers.length) {
    window.setInterval(function () { timers.forEach(function (t) { t.render(); }); }, 250);
  }
})();
