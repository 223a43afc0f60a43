// Small enhancements only: every page works without this file.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});

// A print button where a page is meant to be printed (the browser's own print works as well).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});

// Pickers: the choices follow the typing (the search button gives the same list without this).
// Nothing is ticked for the user. A picker of several keeps what is ticked above the new finds; a
// picker of one shows only the new finds, so a choice made for an earlier search cannot ride along.
for (const pick of document.querySelectorAll("fieldset[data-pick]")) {
  const input = pick.querySelector("input[type=search]");
  const choices = pick.querySelector(".choices");
  const multiple = pick.hasAttribute("data-multiple");
  let timer;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = input.value.trim();
      if (!q) return;
      const url = pick.dataset.pick + (pick.dataset.pick.includes("?") ? "&" : "?") + "q=" + encodeURIComponent(q);
      const answer = await fetch(url, { credentials: "same-origin" });
      if (!answer.ok) return;
      const { items } = await answer.json();
      const kept = multiple ? [...choices.querySelectorAll("label.choice")].filter((l) => l.querySelector("input").checked) : [];
      const keptIds = kept.map((l) => l.querySelector("input").value);
      const rows = items.filter((o) => !keptIds.includes(String(o.id))).map((o) => {
        const label = document.createElement("label");
        label.className = "choice";
        const box = document.createElement("input");
        box.type = multiple ? "checkbox" : "radio";
        box.name = pick.dataset.field;
        box.value = o.id;
        const where = document.createElement("small");
        where.className = "hint";
        where.textContent = (o.within ? o.within + " · " : "") + pick.dataset.number + " " + o.id;
        const text = document.createElement("span");
        text.append(o.name + " ", where);
        label.append(box, text);
        return label;
      });
      if (!items.length) {
        const none = document.createElement("p");
        none.className = "hint";
        none.textContent = pick.dataset.none;
        rows.push(none);
      }
      choices.replaceChildren(...kept, ...rows);
    }, 250);
  });
}

// Video and audio items: the player reports what it has played (the browser's own `played`
// ranges, which a jump does not fill) every 15 seconds and when it pauses or ends. The server
// merges the ranges and completes the item at 95%; no time is counted.
for (const player of document.querySelectorAll("[data-progress]")) {
  let last = "";
  const report = async () => {
    const ranges = [];
    for (let i = 0; i < player.played.length; i++) ranges.push([player.played.start(i), player.played.end(i)]);
    const body = JSON.stringify({ ranges });
    if (!ranges.length || body === last) return;
    last = body;
    const answer = await fetch(player.dataset.progress, {
      method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" }, body,
    });
    if (!answer.ok) return;
    const watched = await answer.json();
    const shown = document.getElementById("watched");
    if (shown) shown.textContent = watched.percent + "%";
    if (watched.completed && !document.getElementById("completed")) {
      const hint = document.getElementById("watch-to-complete");
      if (hint) { hint.textContent = "✓ " + (document.documentElement.lang === "en" ? "Completed" : "已学完"); hint.id = "completed"; hint.className = "ok"; }
    }
  };
  setInterval(() => { if (!player.paused) report(); }, 15000);
  player.addEventListener("pause", report);
  player.addEventListener("ended", report);
  document.addEventListener("visibilitychange", () => { if (document.hidden) report(); });
}

// An article's body: with JavaScript, a small editor over the textarea (bold, heading, list,
// quote, link) whose HTML goes back into the textarea; the server keeps only those elements.
// Without it, the textarea takes plain paragraphs.
for (const area of document.querySelectorAll("textarea[data-rich]")) {
  const [bold, heading, list, quote, link, address] = area.dataset.rich.split("|");
  const editor = document.createElement("div");
  editor.className = "rich";
  editor.contentEditable = "true";
  editor.setAttribute("role", "textbox");
  editor.setAttribute("aria-multiline", "true");
  editor.setAttribute("aria-labelledby", area.id + "-label");
  const value = area.value.trim();
  if (value.startsWith("<")) editor.innerHTML = value;
  else for (const line of value.split("\n").filter((l) => l.trim())) {
    const p = document.createElement("p");
    p.textContent = line;
    editor.appendChild(p);
  }
  const bar = document.createElement("div");
  bar.className = "rich-tools";
  const tool = (label, run) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.addEventListener("click", () => { editor.focus(); run(); sync(); });
    bar.appendChild(b);
  };
  const sync = () => { area.value = editor.innerHTML; };
  tool(bold, () => document.execCommand("bold"));
  tool(heading, () => document.execCommand("formatBlock", false, "h3"));
  tool(list, () => document.execCommand("insertUnorderedList"));
  tool(quote, () => document.execCommand("formatBlock", false, "blockquote"));
  tool(link, () => {
    const href = prompt(address, "https://");
    if (href && /^https?:\/\//.test(href)) document.execCommand("createLink", false, href);
  });
  editor.addEventListener("input", sync);
  const label = document.querySelector(`label[for="${area.id}"]`);
  if (label) label.id = area.id + "-label";
  area.hidden = true;
  area.before(bar, editor);
}
