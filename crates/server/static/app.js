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
for (const pick of document.querySelectorAll("fieldset[data-pick]")) {
  const input = pick.querySelector("input[type=search]");
  const choices = pick.querySelector(".choices");
  let timer;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = input.value.trim();
      if (!q) return;
      const answer = await fetch(pick.dataset.pick + "?q=" + encodeURIComponent(q), { credentials: "same-origin" });
      if (!answer.ok) return;
      const { items } = await answer.json();
      const rows = items.map((o) => {
        const label = document.createElement("label");
        label.className = "choice";
        const radio = document.createElement("input");
        radio.type = "radio";
        radio.name = pick.dataset.field;
        radio.value = o.id;
        radio.checked = items.length === 1;
        const where = document.createElement("small");
        where.className = "hint";
        where.textContent = (o.within ? o.within + " · " : "") + pick.dataset.number + " " + o.id;
        label.append(radio, " " + o.name + " ", where);
        return label;
      });
      if (!rows.length) {
        const none = document.createElement("p");
        none.className = "hint";
        none.textContent = pick.dataset.none;
        rows.push(none);
      }
      choices.replaceChildren(...rows);
    }, 250);
  });
}
