// The header's search: results as you type, from GET /api/search/, in a listbox under the
// field (the ARIA combobox pattern). Arrow keys move through the results, Enter opens the
// one chosen (or submits the form to /search/ when none is), Escape closes the list. Without
// script the form is a plain GET to the results page.

const DEBOUNCE_MS = 200;
const form = document.querySelector("[data-search]");
if (form) {
  startSearch(form);
}

function startSearch(form) {
  const input = form.querySelector("[role=combobox]");
  const list = form.querySelector("[role=listbox]");
  const status = form.querySelector("[data-search-status]");
  let options = [];
  let active = -1;
  let timer = null;
  let pending = null;

  function close() {
    list.hidden = true;
    list.replaceChildren();
    options = [];
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function highlight(index) {
    options.forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
    active = index;
    if (index < 0) {
      input.removeAttribute("aria-activedescendant");
      return;
    }
    input.setAttribute("aria-activedescendant", options[index].id);
    options[index].scrollIntoView({ block: "nearest" });
  }

  function heading(text) {
    const item = document.createElement("li");
    item.setAttribute("role", "presentation");
    item.className = "header-search__heading";
    item.textContent = text;
    return item;
  }

  function option(label, detail, url) {
    const item = document.createElement("li");
    item.id = `header-search-option-${options.length}`;
    item.setAttribute("role", "option");
    item.setAttribute("aria-selected", "false");
    item.className = "header-search__option";
    item.dataset.url = url;
    const name = document.createElement("span");
    name.textContent = label;
    item.append(name);
    if (detail) {
      const small = document.createElement("small");
      small.textContent = detail;
      item.append(small);
    }
    // Chosen on mousedown, before the field loses focus and the list closes.
    item.addEventListener("mousedown", (event) => {
      event.preventDefault();
      location.assign(url);
    });
    options.push(item);
    return item;
  }

  function show(query, results) {
    const items = [];
    if (results.rooms.length) {
      items.push(heading("Rooms"));
      for (const room of results.rooms) {
        const when = room.status === "live" ? "Live now" : "Upcoming";
        const club = room.club ? ` · ${room.club.name}` : "";
        items.push(option(room.title, `${when} · ${room.host.display_name}${club}`, room.url));
      }
    }
    if (results.people.length) {
      items.push(heading("People"));
      for (const person of results.people) {
        items.push(option(person.display_name, `@${person.username}`, `/u/${person.username}/`));
      }
    }
    if (results.clubs.length) {
      items.push(heading("Clubs"));
      for (const club of results.clubs) {
        const members = `${club.member_count} member${club.member_count === 1 ? "" : "s"}`;
        items.push(option(club.name, members, `/clubs/${club.slug}/`));
      }
    }
    const found = options.length;
    if (!found) {
      const empty = document.createElement("li");
      empty.setAttribute("role", "presentation");
      empty.className = "header-search__empty";
      empty.textContent = "Nothing matches yet.";
      items.push(empty);
    }
    const all = new URL(form.action, location.href);
    all.searchParams.set("q", query);
    items.push(option(`See all results for “${query}”`, "", all.pathname + all.search));
    list.replaceChildren(...items);
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    active = -1;
    status.textContent = found
      ? `${found} result${found === 1 ? "" : "s"}; use the arrow keys to choose.`
      : "No results.";
  }

  async function lookUp() {
    const query = input.value.trim();
    if (!query) {
      close();
      return;
    }
    pending?.abort();
    pending = new AbortController();
    const url = new URL(form.dataset.search, location.href);
    url.searchParams.set("q", query.slice(0, 100));
    try {
      const response = await fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: pending.signal,
      });
      if (!response.ok) return;
      const results = await response.json();
      // A newer query may have been typed while this one was on its way.
      if (input.value.trim() === query) show(query, results);
    } catch (error) {
      if (error.name !== "AbortError") console.warn("Search failed; typing again retries.", error);
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(lookUp, DEBOUNCE_MS);
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      if (!list.hidden) {
        event.preventDefault();
        close();
      }
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (list.hidden || !options.length) return;
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      // The positions cycle through the results and back to the field itself (-1).
      let next = active + step;
      if (next >= options.length) next = -1;
      if (next < -1) next = options.length - 1;
      highlight(next);
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      location.assign(options[active].dataset.url);
    }
  });

  input.addEventListener("blur", () => close());
}
