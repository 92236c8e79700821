// The trainers' playground: draws the phones the server describes and sends what people do.
// Plain JavaScript, no library, no build step; everything comes from this machine.
"use strict";

const LABELS = {
  fr: {
    title: "Jigiya · terrain d'entraînement", offline: "hors ligne : rien n'atteint Telegram",
    scenario: "Scénario :", start: "Commencer", next: "Suivant ▶", reset: "↺ Recommencer",
    survivor: "Survivante", officer: "Agent", editor: "Éditrice", translator: "Traductrice", staff: "Groupe de la ligne",
    survivorName: "Survivante · Awa", officerName: "Agent · Moussa", editorName: "Éditrice · Kadiatou", translatorName: "Traductrice · Mariam",
    staffName: "Ligne d'écoute · Fatou",
    general: "Général", closed: "clos", send: "Envoyer", write: "Écrire un message…",
    location: "📍 Position", voice: "🎤 Vocal", photo: "🖼️ Photo", document: "📄 Fichier",
    contact: "📇 Contact", sticker: "🙂 Autocollant",
    deleted: "Message supprimé par le bot (note pour la formation)", edited: "modifié",
    protected: "protégé : ne peut être ni transféré ni enregistré",
    pick: "Partager une position : touchez une ville, ou saisissez des coordonnées",
    lat: "Latitude", lon: "Longitude", share: "Partager", cancel: "Annuler",
    step: "Étape", done: "Fin du scénario.", failed: "(l'écran attendu n'est pas venu)",
    full: "La salle est pleine : réessayez dans un moment.", photoShown: "🖼️ Photo",
  },
  en: {
    title: "Jigiya · trainers' playground", offline: "offline: nothing reaches Telegram",
    scenario: "Scenario:", start: "Start", next: "Next ▶", reset: "↺ Start over",
    survivor: "Survivor", officer: "Officer", editor: "Editor", translator: "Translator", staff: "Staff group",
    survivorName: "Survivor · Awa", officerName: "Officer · Moussa", editorName: "Editor · Kadiatou", translatorName: "Translator · Mariam",
    staffName: "Hotline staff · Fatou",
    general: "General", closed: "closed", send: "Send", write: "Write a message…",
    location: "📍 Location", voice: "🎤 Voice", photo: "🖼️ Photo", document: "📄 File",
    contact: "📇 Contact", sticker: "🙂 Sticker",
    deleted: "Message deleted by the bot (trainer's note)", edited: "edited",
    protected: "protected: cannot be forwarded or saved",
    pick: "Share a location: tap a town, or enter coordinates",
    lat: "Latitude", lon: "Longitude", share: "Share", cancel: "Cancel",
    step: "Step", done: "End of the scenario.", failed: "(the expected screen did not come)",
    full: "The room is full: try again in a while.", photoShown: "🖼️ Photo",
  },
};
const PHONES = ["survivor", "officer", "editor", "translator", "staff"];
const MIDDLE = ["officer", "editor", "translator"]; // wide, one of them shows between the others
const ATTACH = ["location", "voice", "photo", "document", "contact", "sticker"];

let lang = localStorage.getItem("jigiya-lang") || (navigator.language.startsWith("en") ? "en" : "fr");
let view = null;        // the phones as the server last described them
let version = "";
let generation = 0;
let shownTab = "survivor";
let topic = 0;          // the staff phone's open topic (0: General)
let knownTopics = 0;
let mapData = null;
let mapFor = "survivor";
let scenarios = [];
let lastNotice = {};
let narration = null;   // the last step played: {say, step, steps, ok}

const L = (key) => LABELS[lang][key] || key;
const $ = (sel) => document.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  return response.json().catch(() => ({}));
}

// What people do; a refusal (a button that is gone, say) shows briefly on that phone.
async function act(phone, action) {
  const answer = await post("/api/act", { phone, ...action });
  if (answer.error) toast(phone, answer.error);
}

function toast(phone, text) {
  const note = el("div", { class: "notice", role: "status", text });
  $(`.phone[data-phone="${phone}"] .toasts`).append(note);
  setTimeout(() => note.remove(), 3000);
}

// --- the phones -------------------------------------------------------------------------

function buildPhones() {
  const main = $("#phones");
  for (const name of PHONES) {
    const input = el("input", { "aria-label": L("write"), placeholder: L("write") });
    const form = el("form", { class: "compose" }, input, el("button", { text: L("send") }));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      act(name, { type: "text", text, thread_id: name === "staff" ? topic : null });
    });
    const attach = el("div", { class: "attach" });
    if (name !== "staff") {
      for (const kind of ATTACH) {
        attach.append(el("button", {
          type: "button", "data-kind": kind, text: L(kind),
          onclick: () => (kind === "location" ? openMap(name) : act(name, { type: kind })),
        }));
      }
    }
    main.append(el("section", { class: "phone", "data-phone": name, "aria-label": L(name + "Name") },
      el("h2", { text: L(name + "Name") }),
      name === "staff" ? el("div", { class: "topics" }) : null,
      el("div", { class: "toasts" }),
      el("div", { class: "screen", tabindex: "0" }),
      el("div", { class: "keyboard" }),
      form, attach));
  }
}

function render() {
  if (!view) return;
  for (const name of PHONES) renderPhone(name, view[name]);
}

function renderPhone(name, phone) {
  const section = $(`.phone[data-phone="${name}"]`);
  const screen = section.querySelector(".screen");
  const atBottom = screen.scrollHeight - screen.scrollTop - screen.clientHeight < 40;
  screen.replaceChildren();
  if (name === "staff") renderTopics(section, phone.topics || []);
  const notice = phone.notice;
  if (notice && lastNotice[name] !== notice.seq) {
    lastNotice[name] = notice.seq;
    toast(name, notice.text);
  }
  for (const message of phone.messages) {
    if (name === "staff" && (message.thread_id || 0) !== topic) continue;
    screen.append(drawMessage(name, message));
  }
  const keyboard = section.querySelector(".keyboard");
  keyboard.replaceChildren();
  for (const row of phone.keyboard || []) {
    const line = el("div", { class: "row" });
    for (const key of row) {
      line.append(el("button", {
        type: "button", text: key.text,
        onclick: () => (key.location ? openMap(name) : act(name, { type: "text", text: key.text })),
      }));
    }
    keyboard.append(line);
  }
  if (atBottom) screen.scrollTop = screen.scrollHeight;
}

function renderTopics(section, topics) {
  if (topics.length > knownTopics) topic = topics[topics.length - 1].thread_id; // follow a new case
  knownTopics = topics.length;
  const bar = section.querySelector(".topics");
  bar.replaceChildren();
  const choices = [{ thread_id: 0, name: L("general") }, ...topics];
  for (const t of choices) {
    const label = t.closed ? `${t.name} (${L("closed")})` : t.name;
    bar.append(el("button", {
      type: "button", text: label, "aria-pressed": String(t.thread_id === topic),
      onclick: () => { topic = t.thread_id; render(); },
    }));
  }
}

function drawMessage(phone, m) {
  if (m.deleted) return el("div", { class: "msg deleted", "data-id": m.id, text: L("deleted") });
  const box = el("div", { class: m.mine ? "msg mine" : "msg", "data-id": m.id });
  if (m.contact) {
    box.append(el("div", { class: "card contact" }, el("span", { class: "icon", text: "📇" }),
      el("span", { text: `${m.contact.name}\n${m.contact.phone}` })));
  }
  if (m.venue) {
    box.append(el("div", { class: "pin venue" }, pinMap(m.venue.latitude, m.venue.longitude),
      el("strong", { text: m.venue.title }), el("div", { text: m.venue.address })));
  } else if (m.location) {
    const where = `${m.location.latitude.toFixed(4)}, ${m.location.longitude.toFixed(4)}`;
    box.append(el("div", { class: "pin" }, pinMap(m.location.latitude, m.location.longitude),
      el("div", { text: "📍 " + where })));
  }
  if (m.document) {
    box.append(el("a", { class: "document", href: `/api/file/${encodeURIComponent(m.document.file_id)}`,
      download: m.document.name, text: "📄 " + m.document.name }));
  }
  if (m.voice) {
    box.append(el("audio", { controls: "", preload: "none",
      src: `/api/file/${encodeURIComponent(m.voice.file_id)}` }));
  }
  if (m.photo) box.append(el("div", { text: L("photoShown") }));
  if (m.sticker) box.append(el("div", { class: "sticker", text: "🙂" }));
  if (m.text) box.append(el("div", { class: "text", text: m.text }));
  const marks = [];
  if (m.protected) marks.push(el("span", { title: L("protected"), "aria-label": L("protected"), text: "🔒 " }));
  if (m.edited) marks.push(el("span", { text: L("edited") }));
  if (marks.length) box.append(el("span", { class: "meta" }, ...marks));
  if (m.buttons) {
    const grid = el("div", { class: "buttons" });
    for (const row of m.buttons) {
      const line = el("div", { class: "row" });
      for (const b of row) {
        line.append(el("button", { type: "button", text: b.text,
          onclick: () => act(phone, { type: "press", message_id: m.id, data: b.data }) }));
      }
      grid.append(line);
    }
    box.append(grid);
  }
  return box;
}

// --- the map of Mali ----------------------------------------------------------------------

const SVG = "http://www.w3.org/2000/svg";
const BOX = { west: -12.6, east: 4.6, north: 25.4, south: 9.8, scale: 20 };
const project = (lat, lon) => [(lon - BOX.west) * BOX.scale, (BOX.north - lat) * BOX.scale];

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

function mapSvg() {
  const width = (BOX.east - BOX.west) * BOX.scale;
  const height = (BOX.north - BOX.south) * BOX.scale;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
  const points = (mapData ? mapData.outline : []).map(([lon, lat]) => project(lat, lon).join(","));
  root.append(svg("polygon", { class: "land", points: points.join(" ") }));
  return root;
}

function pinMap(lat, lon) {
  const root = mapSvg();
  for (const town of mapData ? mapData.towns : []) { // the towns, faint, to tell where it is
    const [x, y] = project(town.latitude, town.longitude);
    root.append(svg("circle", { cx: x, cy: y, r: 2.5, fill: "#9b8f73" }));
  }
  const [x, y] = project(lat, lon);
  root.append(svg("circle", { cx: x, cy: y, r: 7, fill: "#c0392b", stroke: "#fff", "stroke-width": 2 }));
  return root;
}

function openMap(phone) {
  mapFor = phone;
  const root = mapSvg();
  const towns = mapData ? mapData.towns : [];
  // Smallest first, so that a large town is drawn over a small neighbour (Mopti over Sévaré).
  towns.map((town, rank) => [town, rank]).reverse().forEach(([town, rank]) => {
    const [x, y] = project(town.latitude, town.longitude);
    const dot = svg("circle", { class: "town", cx: x, cy: y, r: 4, tabindex: "0", role: "button",
      "aria-label": town.name, "data-town": town.name });
    const title = svg("title");
    title.textContent = `${town.name} (${town.region})`;
    dot.append(title);
    const share = () => { $("#map").close(); act(mapFor, { type: "location", latitude: town.latitude, longitude: town.longitude }); };
    dot.addEventListener("click", share);
    dot.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); share(); } });
    root.append(dot);
    if (rank < 14) {
      const label = svg("text", { class: "label", x: x + 5, y: y + 3 });
      label.textContent = town.name;
      root.append(label);
    }
  });
  $("#map-svg").replaceChildren(root);
  $("#map").showModal();
}

function shareCoordinates() {
  const lat = parseFloat($("#lat").value.replace(",", "."));
  const lon = parseFloat($("#lon").value.replace(",", "."));
  if (Number.isNaN(lat) || Number.isNaN(lon)) return;
  $("#map").close();
  act(mapFor, { type: "location", latitude: lat, longitude: lon });
}

// --- tabs, labels, scenarios --------------------------------------------------------------

function showTab(name) {
  shownTab = name;
  if (MIDDLE.includes(name)) document.body.dataset.middle = name;
  // Wide, the tabs only say which phone is in the middle; narrow, which phone shows.
  const middle = document.body.dataset.middle || "officer";
  const wide = window.matchMedia("(min-width: 761px)").matches;
  for (const button of document.querySelectorAll("#tabs button")) {
    button.setAttribute("aria-selected", String(wide ? button.dataset.tab === middle : button.dataset.tab === name));
  }
  for (const section of document.querySelectorAll(".phone")) {
    section.classList.toggle("shown", section.dataset.phone === name);
  }
}

function applyLabels() {
  document.documentElement.lang = lang;
  $("#lang").textContent = lang === "fr" ? "EN" : "FR";
  for (const node of document.querySelectorAll("[data-l]")) node.textContent = L(node.dataset.l);
  for (const section of document.querySelectorAll(".phone")) {
    const name = section.dataset.phone;
    section.setAttribute("aria-label", L(name + "Name"));
    section.querySelector("h2").textContent = L(name + "Name");
    section.querySelector(".compose input").placeholder = L("write");
    section.querySelector(".compose button").textContent = L("send");
    for (const b of section.querySelectorAll(".attach button")) b.textContent = L(b.dataset.kind);
  }
  const select = $("#scenario");
  select.replaceChildren(...scenarios.map((s) => el("option", { value: s.id, text: s.title[lang] })));
  showNarration();
  render();
}

function showNarration() {
  const line = $("#narration");
  if (!narration) { line.textContent = ""; return; }
  const said = narration.say ? narration.say[lang] : "";
  const end = narration.step >= narration.steps ? " " + L("done") : "";
  line.textContent = `${L("step")} ${narration.step}/${narration.steps} · ${said}${narration.ok === false ? " " + L("failed") : ""}${end}`;
}

async function startScenario() {
  const answer = await post("/api/scenario", { start: $("#scenario").value });
  narration = { step: 0, steps: answer.steps, say: null };
  $("#narration").textContent = `${L("step")} 0/${answer.steps}`;
  $("#next").disabled = false;
}

async function nextStep() {
  $("#next").disabled = true;
  const answer = await post("/api/scenario", { next: true });
  if (answer.error) { $("#narration").textContent = answer.error; return; }
  narration = answer;
  showNarration();
  for (const s of document.querySelectorAll(".phone")) s.classList.toggle("acting", s.dataset.phone === answer.seen_by);
  showTab(answer.seen_by);
  $("#next").disabled = answer.step >= answer.steps;
}

// --- keeping up with the server -----------------------------------------------------------

async function follow() {
  for (;;) {
    try {
      const response = await fetch(`/api/view?since=${version}`);
      if (response.status === 401) { location.reload(); return; }
      const answer = await response.json();
      if (answer.phones) {
        if (answer.generation !== generation) { generation = answer.generation; lastNotice = {}; knownTopics = 0; topic = 0; }
        view = answer.phones;
        version = answer.version;
        render();
      }
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

async function main() {
  buildPhones();
  for (const button of document.querySelectorAll("#tabs button")) button.addEventListener("click", () => showTab(button.dataset.tab));
  $("#lang").addEventListener("click", () => { lang = lang === "fr" ? "en" : "fr"; localStorage.setItem("jigiya-lang", lang); applyLabels(); });
  $("#reset").addEventListener("click", async () => {
    narration = null; $("#next").disabled = true;
    for (const s of document.querySelectorAll(".phone")) s.classList.remove("acting");
    await post("/api/reset", {});
  });
  $("#start").addEventListener("click", startScenario);
  $("#next").addEventListener("click", nextStep);
  $("#share-coords").addEventListener("click", shareCoordinates);
  [mapData, scenarios] = await Promise.all([
    fetch("/api/map").then((r) => r.json()), fetch("/api/scenarios").then((r) => r.json()),
  ]);
  showTab("survivor");
  applyLabels();
  follow();
}

document.addEventListener("DOMContentLoaded", main);
