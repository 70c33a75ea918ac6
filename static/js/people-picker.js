// The people picker: a text field of usernames (what works without script) becomes a list
// of names, each with a remove button, and a field that suggests people you follow or who
// follow you (the page's <datalist id="people-suggestions">). The original field stays in
// the form, hidden, and carries the names as before.

const SEPARATORS = /[\s,]+/;

function namesOf(text) {
  return [...new Set(text.split(SEPARATORS).map((name) => name.replace(/^@/, "")).filter(Boolean))];
}

function enhance(field) {
  const label = document.querySelector(`label[for="${field.id}"]`);
  const picker = document.createElement("div");
  picker.className = "people-picker";
  const list = document.createElement("ul");
  list.className = "people-picker__list";
  const status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("aria-live", "polite");
  const adder = document.createElement("input");
  adder.type = "text";
  adder.id = `${field.id}-add`;
  adder.className = "people-picker__input";
  adder.autocomplete = "off";
  adder.placeholder = "Type a username, then Enter";
  if (document.getElementById("people-suggestions")) adder.setAttribute("list", "people-suggestions");
  if (field.getAttribute("aria-describedby")) {
    adder.setAttribute("aria-describedby", field.getAttribute("aria-describedby"));
  }
  if (label) label.htmlFor = adder.id;

  let names = namesOf(field.value);
  const render = () => {
    field.value = names.join(", ");
    list.replaceChildren(
      ...names.map((name) => {
        const item = document.createElement("li");
        item.className = "people-picker__chip";
        item.textContent = `@${name}`;
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "people-picker__remove";
        remove.textContent = "×";
        remove.setAttribute("aria-label", `Remove @${name}`);
        remove.addEventListener("click", () => {
          names = names.filter((other) => other !== name);
          status.textContent = `Removed @${name}`;
          render();
          adder.focus();
        });
        item.append(remove);
        return item;
      }),
    );
  };
  const add = () => {
    const added = namesOf(adder.value).filter((name) => !names.includes(name));
    if (!added.length) return;
    names = [...names, ...added];
    adder.value = "";
    status.textContent = `Added ${added.map((name) => `@${name}`).join(", ")}`;
    render();
  };
  adder.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === ",") {
      event.preventDefault();
      add();
    } else if (event.key === "Backspace" && !adder.value && names.length) {
      status.textContent = `Removed @${names.at(-1)}`;
      names = names.slice(0, -1);
      render();
    }
  });
  // A suggestion picked from the list arrives as a whole value, without a key press.
  adder.addEventListener("change", add);
  field.form.addEventListener("submit", add);

  field.type = "hidden";
  field.after(picker);
  picker.append(list, adder, status);
  render();
}

for (const field of document.querySelectorAll("input[data-people-picker]")) enhance(field);
