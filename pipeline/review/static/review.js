// The transcript follows playback; a time button seeks the recording. No inline script (CSP: script-src 'self').
(function () {
  "use strict";
  var player = document.getElementById("player");
  var items = Array.prototype.slice.call(document.querySelectorAll("#transcript li.utt"));
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.seek") : null;
    if (!button || !player) { return; }
    var t = parseFloat(button.getAttribute("data-t"));
    if (!isNaN(t)) { player.currentTime = t; player.play().catch(function () {}); }
  });
  if (!player) { return; }
  var current = null;
  player.addEventListener("timeupdate", function () {
    var now = player.currentTime, found = null;
    for (var i = 0; i < items.length; i++) {
      var start = parseFloat(items[i].getAttribute("data-start")), end = parseFloat(items[i].getAttribute("data-end"));
      if (now >= start && now < end + 0.05) { found = items[i]; break; }
    }
    if (found === current) { return; }
    if (current) { current.classList.remove("playing"); }
    current = found;
    if (current) {
      current.classList.add("playing");
      current.scrollIntoView({block: "nearest"});
    }
  });
})();
