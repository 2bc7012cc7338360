/* The booking calendar (decision 0032): one FullCalendar time grid per room, fed by the JSON feeds.
 * Without this script the page's list and forms do everything; with it, the slot lists are hidden and the
 * rooms are drawn side by side (day) or one under the other (week). Times are the clinic's wall-clock times:
 * the feeds send them without offset and FullCalendar shows them as they are (its "UTC" mode), so the
 * browser's own zone never shifts them. */
(function () {
  "use strict";
  // Loaded before FullCalendar's bundle, which inserts its CSS through the CSSOM as it loads. Its icon font (a
  // data: URL) only draws its own toolbar's arrows, which this page does not use, and the CSP (font-src falls back
  // to 'self') would refuse it: while the bundle loads, that one @font-face rule is replaced by an empty rule.
  var insertRule = CSSStyleSheet.prototype.insertRule;
  CSSStyleSheet.prototype.insertRule = function (rule, index) {
    var text = String(rule);
    if (text.indexOf("@font-face") === 0 && text.indexOf("fcicons") !== -1) {
      text = ".fc-icon-font-not-loaded {}";
    }
    return insertRule.call(this, text, index);
  };
  document.addEventListener("DOMContentLoaded", function () {  // after every deferred script, FullCalendar's too
    CSSStyleSheet.prototype.insertRule = insertRule;
    start();
  });

  function start() {
    var app = document.getElementById("calendar-app");
    if (!app || typeof FullCalendar === "undefined") {
      return;
    }
    var data = app.dataset;
    var caseId = data.caseId;
    var canBook = data.canBook === "yes";
    var canMove = data.canMove === "yes";
    var statusBox = document.getElementById("cal-status");
    var errorBox = document.getElementById("cal-error");
    var reasonBox = document.getElementById("slot-reason");
    var query = "start=" + encodeURIComponent(data.start) + "&days=" + encodeURIComponent(data.days);
    var counter = 0;

    function getJson(url) {
      return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" }).then(function (r) {
        if (!r.ok) {
          throw new Error("status " + r.status);
        }
        return r.json();
      });
    }

    function wallClock(date) {
      // FullCalendar's "UTC" dates carry the clinic's wall-clock time
      return date.toISOString().slice(0, 19);
    }

    function spoken(text) {
      // "2026-12-10T09:00:00" -> "Thursday 10 December 2026, 09:00"
      var d = new Date(text + "Z");
      var day = d.toLocaleDateString("en-GB", { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
      return day + ", " + text.slice(11, 16);
    }

    function post(url, fields, json) {
      var body = new URLSearchParams();
      Object.keys(fields).forEach(function (k) { body.append(k, fields[k]); });
      body.append("csrf_token", data.csrf);
      return fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: json ? "application/json" : "text/html", "X-CSRF-Token": data.csrf },
        body: body
      });
    }

    function submitBooking(slot) {
      var form = document.createElement("form");
      form.method = "post";
      form.action = "/cases/" + caseId + "/booking";
      var fields = { csrf_token: data.csrf, version: data.version, room: slot.room, starts_at: slot.starts_at };
      Object.keys(fields).forEach(function (k) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = k;
        input.value = fields[k];
        form.appendChild(input);
      });
      document.body.appendChild(form);
      form.submit();
    }

    function book(slot) {
      if (!slot.bookable || !canBook) {
        return;
      }
      var question = "Book " + data.patient + " in " + slot.room + " at " + spoken(slot.start) + "?";
      if (window.confirm(question)) {
        submitBooking(slot);
      }
    }

    function showReason(slot) {
      reasonBox.textContent = slot.bookable
        ? slot.room + ", " + spoken(slot.start) + ": can be booked."
        : slot.room + ", " + spoken(slot.start) + ": not bookable: " + slot.reasons.join("; ");
    }

    function moveBooking(info) {
      var event = info.event;
      var props = event.extendedProps;
      var start = wallClock(event.start);
      var question = "Move " + (props.name || props.identifier) + " from " + spoken(props.wallStart) + " to " +
        props.room + " at " + spoken(start) + "? The patient is told the new date.";
      if (!window.confirm(question)) {
        info.revert();
        statusBox.textContent = "Not moved.";
        return;
      }
      statusBox.textContent = "Moving…";
      post("/cases/" + props.caseId + "/booking/move", { version: props.version, room: props.room, starts_at: start }, true)
        .then(function (r) {
          return r.json().then(function (body) { return { ok: r.ok, body: body }; });
        })
        .then(function (result) {
          if (result.ok) {
            window.location.assign("/calendar?view=" + data.view + "&start=" + start.slice(0, 10) + "&done=moved");
            return;
          }
          info.revert();
          statusBox.textContent = "";
          errorBox.textContent = "Not moved: " + result.body.detail;
        })
        .catch(function () {
          info.revert();
          statusBox.textContent = "";
          errorBox.textContent = "Not moved: the server could not be reached. Nothing was changed.";
        });
    }

    function bookingEvents(bookings, room) {
      return bookings.filter(function (b) { return b.room === room; }).map(function (b) {
        return {
          id: "booking-" + b.id,
          title: b.title,
          start: b.start,
          end: b.end,
          url: b.chart_url,
          classNames: ["booking", "booking-" + b.state],
          startEditable: b.movable,
          durationEditable: false,
          extendedProps: {
            kind: "booking", caseId: b.case_id, version: b.version, name: b.name, identifier: b.identifier,
            levels: b.levels, state: b.state, room: b.room, wallStart: b.start
          }
        };
      });
    }

    function slotEvents(feed, room) {
      if (!feed) {
        return [];
      }
      return feed.slots.filter(function (s) { return s.room === room && !s.booked; }).map(function (free) {
        // a start every rule allows is still not offered to a role that does not book, or for a booked case
        var s = Object.assign({}, free, { bookable: free.bookable && canBook });
        if (!s.bookable && !s.reasons.length) {
          s.reasons = ["not offered here: the case is not prepared yet, is already booked (move its booking instead), or this role does not book"];
        }
        return {
          id: "slot-" + room + "-" + s.start,
          title: s.bookable ? "Book" : "Not bookable",
          start: s.start,
          end: s.end,
          editable: false,
          classNames: ["slot", s.bookable ? "slot-bookable" : "slot-refused"],
          extendedProps: { kind: "slot", slot: s }
        };
      });
    }

    function content(arg) {
      var props = arg.event.extendedProps;
      var main = document.createElement("span");
      main.className = "ev-main";
      if (props.kind === "slot") {
        var s = props.slot;
        main.textContent = s.start.slice(11, 16) + " " + (s.bookable ? "Book" : "not bookable");
        if (!s.bookable) {
          var why = document.createElement("span");
          why.className = "visually-hidden";
          why.id = "slot-why-" + (++counter);
          why.textContent = "Why: " + s.reasons.join("; ");
          return { domNodes: [main, why] };
        }
        return { domNodes: [main] };
      }
      var time = document.createElement("span");
      time.className = "ev-time";
      time.textContent = props.wallStart.slice(11, 16) + " ";
      var who = document.createElement("strong");
      who.textContent = props.name || props.identifier;
      var rest = document.createElement("span");
      rest.textContent = " · " + (props.levels.length ? props.levels.join(" ") : "levels not recorded") + " · " + props.state.replace(/_/g, " ");
      main.appendChild(time);
      main.appendChild(who);
      main.appendChild(rest);
      return { domNodes: [main] };
    }

    function mounted(arg) {
      var el = arg.el;
      var props = arg.event.extendedProps;
      if (props.kind === "booking") {
        el.setAttribute("aria-label", arg.event.title + ", " + props.room + ", " + spoken(props.wallStart) + ": open the chart");
        return;
      }
      var s = props.slot;
      el.setAttribute("data-room", s.room);
      el.setAttribute("data-start", s.start);
      el.setAttribute("tabindex", "0");
      el.setAttribute("role", "button");
      el.setAttribute("aria-label", s.room + ", " + spoken(s.start) + (s.bookable ? ": book this start" : ": not bookable"));
      if (!s.bookable) {
        el.setAttribute("aria-disabled", "true");
        el.setAttribute("title", s.reasons.join("; "));
        var why = el.querySelector("[id^='slot-why-']");
        if (why) {
          el.setAttribute("aria-describedby", why.id);
        }
      }
      el.addEventListener("focus", function () { showReason(s); });
      el.addEventListener("mouseenter", function () { showReason(s); });
      el.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          book(s);
        }
      });
    }

    function mount(bookings, feed) {
      var view = data.view === "day" ? "timeGridDay" : "timeGridWeek";
      var hosts = app.querySelectorAll(".fc-host");
      var narrow = window.matchMedia("(max-width: 700px)").matches;
      app.hidden = false;
      document.querySelectorAll(".slot-fallback").forEach(function (el) { el.hidden = true; });
      hosts.forEach(function (host) {
        var room = host.dataset.room;
        var calendar = new FullCalendar.Calendar(host, {
          initialView: view,
          initialDate: data.start,
          timeZone: "UTC",
          firstDay: 1,
          weekends: false,
          headerToolbar: false,
          allDaySlot: false,
          height: "auto",
          slotMinTime: data.dayStart,
          slotMaxTime: data.dayEnd,
          slotDuration: "00:30:00",
          slotLabelFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
          eventTimeFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
          dayHeaderFormat: view === "timeGridDay"
            ? { weekday: "long", day: "numeric", month: "long" }
            : (narrow ? { weekday: "short", day: "numeric" } : { weekday: "short", day: "numeric", month: "short" }),
          nowIndicator: false,
          editable: canMove,
          eventDurationEditable: false,
          eventOverlap: function (still) { return still.extendedProps.kind === "slot"; },
          events: bookingEvents(bookings, room).concat(slotEvents(feed, room)),
          eventContent: content,
          eventDidMount: mounted,
          eventClick: function (info) {
            var props = info.event.extendedProps;
            if (props.kind === "slot") {
              info.jsEvent.preventDefault();
              book(props.slot);
            }
          },
          eventDrop: moveBooking
        });
        calendar.render();
      });
    }

    var events = getJson("/calendar/events.json?" + query);
    var slots = caseId ? getJson("/calendar/slots.json?" + query + "&case_id=" + encodeURIComponent(caseId)) : Promise.resolve(null);
    Promise.all([events, slots]).then(function (results) {
      mount(results[0], results[1]);
    }).catch(function () {
      app.hidden = false;
      errorBox.textContent = "The calendar view could not load; the list below shows every slot and booking.";
    });
  }
})();
