// The feedback frame as tall as its content, so that the page has one scroll bar, not two.
// The frame runs no script of its own (it is sandboxed without allow-scripts); this one reads
// its height from the page. Where it cannot (no script, another origin), the stylesheet's fixed
// height stays.
(function () {
  "use strict";
  var frame = document.getElementById("feedback");
  if (!frame) {
    return;
  }
  function fit() {
    var doc;
    try {
      doc = frame.contentDocument;
    } catch (e) {
      return;
    }
    if (!doc || !doc.documentElement || !doc.body) {
      return;
    }
    frame.style.height = "0px"; // measure the content, not the frame
    var height = Math.max(doc.documentElement.scrollHeight, doc.body.scrollHeight);
    frame.style.height = (height + 4) + "px";
    frame.classList.add("fitted");
  }
  frame.addEventListener("load", fit);
  window.addEventListener("resize", fit);
  if (frame.contentDocument && frame.contentDocument.readyState === "complete") {
    fit();
  }
})();
