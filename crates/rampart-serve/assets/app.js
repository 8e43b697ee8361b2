// rampart serve: optional comfort only; every page works without JavaScript.
// Destructive forms ask once more before submitting.
document.addEventListener("submit", function (e) {
  var msg = e.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) { e.preventDefault(); }
});
