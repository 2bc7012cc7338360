// Cement timer: counts through the cement's phases (mixing, waiting, working, setting) from mixing.
(function () {
  "use strict";
  document.querySelectorAll(".timer").forEach(function (box) {
    var phases = JSON.parse(box.dataset.phases || "[]");
    var out = box.querySelector(".timer-out");
    var button = box.querySelector(".timer-start");
    var started = null;
    var handle = null;
    function tick() {
      var minutes = (Date.now() - started) / 60000;
      var current = phases.find(function (p) { return minutes >= p.start_min && minutes < p.end_min; });
      var mmss = Math.floor(minutes) + ":" + String(Math.floor((minutes % 1) * 60)).padStart(2, "0");
      if (current) {
        var left = current.end_min - minutes;
        out.textContent = mmss + " — " + current.name + " phase, " + Math.ceil(left * 60) + " s left";
        box.dataset.phase = current.name;
      } else {
        out.textContent = mmss + " — cement set";
        box.dataset.phase = "set";
        clearInterval(handle);
      }
    }
    button.addEventListener("click", function () {
      started = Date.now();
      clearInterval(handle);
      handle = setInterval(tick, 1000);
      tick();
    });
  });
})();
