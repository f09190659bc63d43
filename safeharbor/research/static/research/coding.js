// Coding by selection: turns a mouse (or keyboard) text selection inside the transcript into
// code-point offsets and puts them in the coding form's "From"/"To" fields. The form works
// without this script (choose a paragraph); nothing here sends data by itself.
const transcript = document.getElementById("transcript");
const form = document.getElementById("code-form");
const status = document.getElementById("selection-status");

function codePoints(text) {
  return Array.from(text).length;
}

// The code-point offset of (node, offset) inside the transcript, from the nearest element
// that carries data-start (a paragraph or a piece of one).
function offsetOf(node, offset) {
  let element = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
  while (element && element !== transcript && !element.hasAttribute("data-start")) {
    element = element.parentElement;
  }
  if (!element || element === transcript) return null;
  const range = document.createRange();
  range.setStart(element, 0);
  range.setEnd(node, offset);
  return Number(element.getAttribute("data-start")) + codePoints(range.toString());
}

function onSelection() {
  const selection = window.getSelection();
  if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return;
  const range = selection.getRangeAt(0);
  if (!transcript.contains(range.startContainer) || !transcript.contains(range.endContainer)) return;
  const start = offsetOf(range.startContainer, range.startOffset);
  const end = offsetOf(range.endContainer, range.endOffset);
  if (start === null || end === null || end <= start) return;
  form.querySelector("[name=start]").value = String(start);
  form.querySelector("[name=end]").value = String(end);
  const paragraph = form.querySelector("[name=paragraph]");
  if (paragraph) paragraph.value = "";
  const preview = selection.toString().slice(0, 80);
  status.textContent = (status.dataset.template || "{n}: {text}")
    .replace("{n}", String(end - start))
    .replace("{text}", preview);
  form.classList.add("selection-active");
}

if (transcript && form && status) {
  transcript.addEventListener("mouseup", onSelection);
  transcript.addEventListener("keyup", onSelection);
}
