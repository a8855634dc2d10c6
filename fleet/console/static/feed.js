// The live feed: events arrive over server-sent events, already rendered (and escaped)
// by the server. EventSource reconnects by itself when the console restarts.
(function () {
  var list = document.getElementById("feed");
  var state = document.getElementById("feed-state");
  var empty = document.getElementById("feed-empty");
  var source = new EventSource(list.dataset.source);
  source.addEventListener("status", function (e) {
    var parts = e.data.split("|");
    state.className = "state " + parts[0];
    state.textContent = parts[0] === "up" ? "Live: connected to the fleet's feed" : parts.slice(1).join("|");
  });
  source.addEventListener("activity", function (e) {
    var holder = document.createElement("ol");
    holder.innerHTML = e.data;
    if (holder.firstElementChild) list.insertBefore(holder.firstElementChild, list.firstChild);
    while (list.children.length > 200) list.removeChild(list.lastChild);
    empty.hidden = true;
  });
  source.onerror = function () {
    state.className = "state down";
    state.textContent = "The console is out of reach: reconnecting…";
  };
})();
