// Drag and drop for the upload form. The form works without this script; with it, files can be
// dropped on the box and the chosen files are listed with their sizes before sending.
(function () {
  "use strict";
  document.documentElement.classList.add("has-js");
  document.body.classList.add("has-js");
  var drop = document.getElementById("drop");
  var input = document.getElementById("file");
  var list = document.getElementById("chosen");
  if (!drop || !input || !list) { return; }
  function size(n) {
    if (n >= 1048576) { return (n / 1048576).toFixed(1) + " MB"; }
    if (n >= 1024) { return (n / 1024).toFixed(1) + " kB"; }
    return n + " B";
  }
  function show() {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    for (var i = 0; i < input.files.length; i++) {
      var li = document.createElement("li");
      li.textContent = input.files[i].name + " (" + size(input.files[i].size) + ")";
      list.appendChild(li);
    }
  }
  input.addEventListener("change", show);
  ["dragenter", "dragover"].forEach(function (ev) {
    drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (ev) {
    drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (e) {
    if (e.dataTransfer && e.dataTransfer.files.length) {
      input.files = e.dataTransfer.files;
      show();
    }
  });
  var form = input.form;
  if (form) {
    form.addEventListener("submit", function () {
      var b = document.getElementById("send");
      if (b) { b.disabled = true; b.textContent = "Wysyłanie i sprawdzanie podpisów…"; }
    });
  }
})();
