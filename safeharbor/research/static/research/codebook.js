// Codebook reorganisation by drag and drop (the browser's own HTML5 drag-and-drop API).
// A progressive enhancement: every code's "Move" link leads to the move form, which works
// without this script and by keyboard (WCAG 2.5.7). A drop posts to that same form's address
// with the page's CSRF token, asking for JSON; the server checks everything again, and the
// page then reloads to show the new order, the message and "Undo my last move".
const table = document.getElementById("codebook-tree");
const status = document.getElementById("drag-status");
const help = document.getElementById("drag-help");
const token = document.querySelector("input[name=csrfmiddlewaretoken]");
const DEPTH = { theme: 0, category: 1, code: 2 };
const ZONES = ["drop-before", "drop-after", "drop-into"];

let dragged = null;

function rows() {
  return Array.from(table.tBodies[0].rows);
}

// The rows under `row` in the tree: the following rows that are deeper than it.
function descendants(row) {
  const all = rows();
  const found = new Set();
  const depth = Number(row.dataset.depth);
  for (let i = all.indexOf(row) + 1; i < all.length && Number(all[i].dataset.depth) > depth; i++) {
    found.add(all[i]);
  }
  return found;
}

// The same rule as the server's (services._level_allows): themes hold categories, categories
// hold codes, codes may hold codes; anything may sit at the top.
function levelAllows(parentLevel, level) {
  if (!parentLevel) return true;
  if (parentLevel === "code" && level === "code") return true;
  return DEPTH[parentLevel] < DEPTH[level];
}

function levelOf(codeId) {
  const row = rows().find((r) => r.dataset.code === codeId);
  return row ? row.dataset.level : "";
}

// Where a drop on `row` at height `y` would put the dragged code: {parent, position} or null.
function placement(row, y) {
  if (!dragged || row === dragged || descendants(dragged).has(row)) return null;
  const box = row.getBoundingClientRect();
  const edge = Math.min(box.height / 4, 12);
  let zone = "into";
  if (y < box.top + edge) zone = "before";
  else if (y > box.bottom - edge) zone = "after";
  if (zone === "into") {
    if (!levelAllows(row.dataset.level, dragged.dataset.level)) return null;
    return { zone, parent: row.dataset.code, position: "" };
  }
  const parent = row.dataset.parent;
  if (!levelAllows(parent ? levelOf(parent) : "", dragged.dataset.level)) return null;
  const siblings = rows().filter((r) => r.dataset.parent === parent && r !== dragged);
  const index = siblings.indexOf(row) + (zone === "after" ? 1 : 0);
  return { zone, parent, position: String(index) };
}

function clearMarks() {
  for (const row of rows()) row.classList.remove(...ZONES);
}

function say(text, isError) {
  status.textContent = text;
  status.classList.toggle("error", Boolean(isError));
}

async function move(place) {
  const body = new FormData();
  body.append("csrfmiddlewaretoken", token.value);
  body.append("parent", place.parent);
  body.append("position", place.position);
  body.append("next", "codebook");
  say(status.dataset.moving, false);
  try {
    const response = await fetch(dragged.dataset.moveUrl, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    const answer = response.headers.get("Content-Type")?.startsWith("application/json")
      ? await response.json()
      : {};
    if (response.ok) {
      window.location.reload();
      return;
    }
    say(answer.error || status.dataset.error, true);
  } catch {
    say(status.dataset.error, true);
  }
}

if (table && status && token) {
  help?.removeAttribute("hidden");
  for (const row of rows()) {
    row.draggable = true;
    row.classList.add("draggable");
    for (const link of row.querySelectorAll("a")) link.draggable = false;
  }
  table.addEventListener("dragstart", (event) => {
    dragged = event.target.closest("tr[data-code]");
    if (!dragged) return;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged.dataset.code);
    dragged.classList.add("dragging");
  });
  table.addEventListener("dragend", () => {
    dragged?.classList.remove("dragging");
    clearMarks();
  });
  table.addEventListener("dragover", (event) => {
    const row = event.target.closest("tr[data-code]");
    clearMarks();
    const place = row ? placement(row, event.clientY) : null;
    if (!place) return; // not a drop target: the browser shows "no drop"
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    row.classList.add(`drop-${place.zone}`);
  });
  table.addEventListener("drop", (event) => {
    const row = event.target.closest("tr[data-code]");
    const place = row ? placement(row, event.clientY) : null;
    clearMarks();
    if (!place) return;
    event.preventDefault();
    move(place);
  });
}
