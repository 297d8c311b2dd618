// partybot sandbox page: one phone per person, live through the emulator's control API.
// /_control/* is the emulator's (people act, events arrive); /_sandbox/* exists only in
// `partybot sandbox` (clock, person picker, files). Without it the page shows every
// emulator user and hides the sandbox controls.
"use strict";

const LABELS = {
  zh: {
    title: "partybot 沙盒", plusHour: "+1 小时", plusDay: "+1 天", toNext: "到下一个提醒",
    nextDue: "下一个提醒：", noneDue: "没有待发的提醒", moved: "时间前进了 ", add: "添加聊天",
    pick: "选择一个人…", visitor: "新来的人（不在名册上）", newcomers: "新人",
    typeHere: "输入消息…", send: "发送", shareContact: "分享手机号", sendFile: "发送文件",
    commands: "命令菜单", close: "关闭", empty: "还没有消息。点这里发送 /start",
    openLinkAs: "用谁的手机打开这个链接？", cancel: "取消", edited: "已编辑",
    minutes: "分钟", hours: "小时", days: "天", noCommands: "没有命令",
    telegramLanguage: "Telegram 语言",
    roles: {
      county_staff: "县委组织部", township_organiser: "乡镇组织委员", secretary: "支部书记",
      deputy_secretary: "支部副书记", inspector: "督查", admin: "管理员",
    },
    member: "党员", newcomer: "新人",
  },
  en: {
    title: "partybot sandbox", plusHour: "+1 hour", plusDay: "+1 day", toNext: "To the next reminder",
    nextDue: "Next reminder: ", noneDue: "No reminder pending", moved: "Time moved forward by ",
    add: "Add chat", pick: "Pick a person…", visitor: "A newcomer (not on any roster)",
    newcomers: "Newcomers", typeHere: "Message…", send: "Send", shareContact: "Share my phone number",
    sendFile: "Send a file", commands: "Commands", close: "Close",
    empty: "No messages yet. Click here to send /start", openLinkAs: "Open this link on whose phone?",
    cancel: "Cancel", edited: "edited", minutes: "min", hours: "h", days: "d",
    noCommands: "No commands", telegramLanguage: "Telegram language",
    roles: {
      county_staff: "County organisation dept.", township_organiser: "Township organiser",
      secretary: "Branch secretary", deputy_secretary: "Deputy secretary", inspector: "Inspector",
      admin: "Administrator",
    },
    member: "Member", newcomer: "Newcomer",
  },
};

const page = {
  language: localStorage.getItem("sandbox.language") || "zh",
  sandbox: true,          // false when served by a bare emulator (no /_sandbox routes)
  timezone: "Asia/Shanghai",
  botUsername: "",
  clock: null,            // {serverMs, at}: the sandbox clock when last read
  nextDue: null,
  since: 0,               // last event seen
  chats: new Map(),       // user id -> chat
  active: null,           // user id shown on a narrow screen
  moved: 0,               // seconds the last jump moved the clock
};

const $ = (selector, root = document) => root.querySelector(selector);
const t = (key) => LABELS[page.language][key] ?? key;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || data.description || response.statusText);
  return data;
}

// ---- times, in the county's zone ------------------------------------------------------

function formatTime(ms, withDate = true) {
  const parts = {};
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: page.timezone, month: page.language === "en" ? "short" : "numeric", day: "numeric", weekday: "short",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  for (const part of format.formatToParts(new Date(ms))) parts[part.type] = part.value;
  const time = `${parts.hour}:${parts.minute}`;
  if (!withDate) return time;
  if (page.language === "en") return `${parts.weekday} ${parts.day} ${parts.month} ${time}`;
  const weekday = "日一二三四五六"["Sun Mon Tue Wed Thu Fri Sat".split(" ").indexOf(parts.weekday)];
  return `${parts.month}月${parts.day}日（周${weekday}）${time}`;
}

function formatSpan(seconds) {
  // Round to whole minutes first, so 21 h 59.6 min reads "22 小时", never "21 小时 60 分钟".
  const total = Math.round(seconds / 60);
  const days = Math.floor(total / 1440);
  const hours = Math.floor((total % 1440) / 60);
  const minutes = total % 60;
  const parts = [[days, "days"], [hours, "hours"], [minutes, "minutes"]].filter(([n]) => n > 0);
  return parts.map(([n, unit]) => `${n} ${t(unit)}`).join(" ") || `0 ${t("minutes")}`;
}

function setClock(state) {
  page.clock = { serverMs: Date.parse(state.now), at: performance.now() };
  page.nextDue = state.next_due ? Date.parse(state.next_due) : null;
  renderClock();
}

function renderClock() {
  if (!page.clock) return;
  $("#clock-now").textContent = formatTime(page.clock.serverMs + performance.now() - page.clock.at);
  const due = page.nextDue === null ? t("noneDue") : t("nextDue") + formatTime(page.nextDue);
  $("#clock-note").textContent = page.moved ? `${t("moved")}${formatSpan(page.moved)} · ${due}` : due;
}

async function jump(how) {
  const result = await api("POST", "/_sandbox/clock", { jump: how });
  page.moved = result.moved_seconds;
  setClock(result);
}

// ---- the page's own language ----------------------------------------------------------

function applyLanguage(language) {
  page.language = language;
  localStorage.setItem("sandbox.language", language);
  document.documentElement.lang = language === "zh" ? "zh-CN" : "en";
  document.title = t("title");
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of document.querySelectorAll("[data-t-title]")) el.title = t(el.dataset.tTitle);
  for (const el of document.querySelectorAll("[data-t-placeholder]")) {
    el.placeholder = t(el.dataset.tPlaceholder);
  }
  for (const button of document.querySelectorAll("[data-language]")) {
    button.setAttribute("aria-pressed", String(button.dataset.language === language));
  }
  for (const chat of page.chats.values()) renderHead(chat);
  renderClock();
  if (page.sandbox) loadRoster();
}

// ---- chats ------------------------------------------------------------------------------

function roleLabel(person) {
  if (person.role) return `${t("roles")[person.role] || person.role} · ${person.scope || ""}`;
  if (person.branch) return `${t("member")} · ${person.branch}`;
  return page.sandbox ? t("newcomer") : "";
}

function renderHead(chat) {
  $(".name", chat.el).textContent = chat.person.name;
  $(".role", chat.el).textContent = roleLabel(chat.person);
  for (const el of chat.el.querySelectorAll("[data-t-title]")) el.title = t(el.dataset.tTitle);
  $("input[name=text]", chat.el).placeholder = t("typeHere");
  const tab = $(`#tabs [data-user-id="${chat.id}"]`);
  if (tab) tab.textContent = chat.person.name;
  const empty = $(".empty", chat.el);
  if (empty) empty.textContent = t("empty");
}

async function openChat(person) {
  if (page.chats.has(person.user_id)) return activate(person.user_id);
  const el = $("#phone-template").content.firstElementChild.cloneNode(true);
  const chat = { id: person.user_id, person, el, messages: new Map(), keyboard: null };
  el.dataset.userId = String(chat.id);
  page.chats.set(chat.id, chat);
  $("#chats").append(el);
  const tab = document.createElement("button");
  tab.dataset.userId = String(chat.id);
  tab.addEventListener("click", () => activate(chat.id));
  $("#tabs").append(tab);
  wireChat(chat);
  renderHead(chat);
  await loadHistory(chat);
  saveOpenChats();
  activate(chat.id);
}

// A chat's messages as the emulator keeps them (it keeps them across sandbox restarts).
async function loadHistory(chat) {
  const history = await api("GET", `/_control/chats/${chat.id}`);
  for (const message of history.messages) upsert(chat, message);
  if (!history.reply_keyboard) setKeyboard(chat, null); // e.g. a one-time keyboard was used
  showEmpty(chat);
}

function closeChat(chat) {
  chat.el.remove();
  $(`#tabs [data-user-id="${chat.id}"]`)?.remove();
  page.chats.delete(chat.id);
  saveOpenChats();
  if (page.active === chat.id) activate(page.chats.keys().next().value);
}

function activate(userId) {
  page.active = userId ?? null;
  for (const chat of page.chats.values()) chat.el.classList.toggle("active", chat.id === userId);
  for (const tab of $("#tabs").children) {
    tab.setAttribute("aria-selected", String(Number(tab.dataset.userId) === userId));
  }
  page.chats.get(userId)?.el.scrollIntoView({ behavior: "smooth", inline: "nearest", block: "nearest" });
}

function saveOpenChats() {
  if (page.sandbox) localStorage.setItem("sandbox.chats", JSON.stringify([...page.chats.keys()]));
}

function wireChat(chat) {
  const act = (what, body) => api("POST", `/_control/users/${chat.id}/${what}`, body)
    .catch((error) => toast(chat, error.message, false));
  const input = $("input[name=text]", chat.el);
  $(".compose", chat.el).addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    act("send", { text });
  });
  $(".close", chat.el).addEventListener("click", () => closeChat(chat));
  $(".contact-button", chat.el).addEventListener("click", () => act("contact", {}));
  $(".file-button input", chat.el).addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const form = new FormData();
    form.append("document", file, file.name);
    act("document", form);
    event.target.value = "";
  });
  $(".menu-button", chat.el).addEventListener("click", () => toggleCommands(chat));
  chat.send = (text) => act("send", { text });
  chat.tap = (label, messageId) => act("tap", { label, message_id: messageId });
  chat.press = (label) => {
    if (chat.keyboard?.one_time_keyboard) setKeyboard(chat, null);
    return act("press", { label });
  };
}

async function toggleCommands(chat) {
  const menu = $(".command-menu", chat.el);
  if (!menu.hidden) { menu.hidden = true; return; }
  const commands = page.sandbox ? await api("GET", `/_sandbox/commands/${chat.id}`) : [];
  menu.replaceChildren(...(commands.length ? commands : [null]).map((command) => {
    const item = document.createElement("li");
    if (!command) { item.textContent = t("noCommands"); return item; }
    item.innerHTML = "<b></b><span></span>";
    item.firstChild.textContent = `/${command.command}`;
    item.lastChild.textContent = command.description;
    item.addEventListener("click", () => { menu.hidden = true; chat.send(`/${command.command}`); });
    return item;
  }));
  menu.hidden = false;
}

function showEmpty(chat) {
  const list = $(".messages", chat.el);
  const empty = $(".empty", list);
  if (chat.messages.size && empty) empty.remove();
  if (!chat.messages.size && !empty) {
    const hint = document.createElement("li");
    hint.className = "empty";
    hint.textContent = t("empty");
    hint.addEventListener("click", () => chat.send("/start"));
    list.append(hint);
  }
}

function toast(chat, text, alert) {
  const box = $(".toast", chat.el);
  box.textContent = text;
  box.classList.toggle("alert", Boolean(alert));
  box.hidden = false;
  clearTimeout(chat.toastTimer);
  chat.toastTimer = setTimeout(() => { box.hidden = true; }, alert ? 6000 : 2500);
  box.onclick = () => { box.hidden = true; };
}

function setKeyboard(chat, markup) {
  chat.keyboard = markup && markup.keyboard ? markup : null;
  const box = $(".reply-keyboard", chat.el);
  box.replaceChildren();
  box.hidden = !chat.keyboard;
  for (const row of chat.keyboard?.keyboard || []) {
    const line = document.createElement("div");
    line.className = "row";
    for (const button of row) {
      const label = typeof button === "string" ? button : button.text;
      const key = document.createElement("button");
      key.type = "button";
      key.textContent = label;
      key.addEventListener("click", () => chat.press(label));
      line.append(key);
    }
    box.append(line);
  }
}

// ---- messages ---------------------------------------------------------------------------

function upsert(chat, message) {
  const list = $(".messages", chat.el);
  const old = chat.messages.get(message.message_id);
  if (message.deleted) {
    old?.remove();
    chat.messages.delete(message.message_id);
    return showEmpty(chat);
  }
  const el = renderMessage(chat, message);
  if (old) old.replaceWith(el);
  else {
    const later = [...chat.messages.keys()].filter((id) => id > message.message_id).sort((a, b) => a - b)[0];
    list.insertBefore(el, later === undefined ? null : chat.messages.get(later));
    list.scrollTop = list.scrollHeight;
  }
  chat.messages.set(message.message_id, el);
  showEmpty(chat);
  if (message.from_bot && !old && message.reply_markup) {
    if (message.reply_markup.keyboard) setKeyboard(chat, message.reply_markup);
    else if (message.reply_markup.remove_keyboard) setKeyboard(chat, null);
  }
}

function renderMessage(chat, message) {
  const item = document.createElement("li");
  item.className = `message ${message.from_bot ? "bot" : "me"}`;
  item.dataset.messageId = String(message.message_id);
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  if (message.photo?.length) {
    const image = document.createElement("img");
    image.src = `/_sandbox/files/${message.photo[message.photo.length - 1].file_id}`;
    image.alt = message.caption || "photo";
    bubble.append(image);
  }
  if (message.document) {
    const download = document.createElement("a");
    const name = message.document.file_name || "file";
    download.className = "doc";
    download.href = `/_sandbox/files/${message.document.file_id}`;
    download.download = name;
    download.textContent = `📄 ${name} (${Math.ceil((message.document.file_size || 0) / 1024)} KB)`;
    bubble.append(download, document.createElement("br"));
  }
  if (message.contact) {
    bubble.append(`📱 ${message.contact.first_name} ${message.contact.phone_number}`);
  }
  const text = message.text ?? message.caption;
  if (text) bubble.append(renderText(chat, text, message.text != null ? message.entities : []));
  item.append(bubble);
  const keyboard = message.reply_markup?.inline_keyboard;
  if (keyboard) item.append(renderInlineKeyboard(chat, message, keyboard));
  const meta = document.createElement("span");
  meta.className = "meta";
  meta.textContent = formatTime(message.date * 1000, false) + (message.edits ? ` · ${t("edited")}` : "");
  item.append(meta);
  return item;
}

function renderInlineKeyboard(chat, message, rows) {
  const box = document.createElement("div");
  box.className = "inline-keyboard";
  for (const row of rows) {
    const line = document.createElement("div");
    line.className = "row";
    for (const button of row) {
      const key = button.url ? link(chat, button.url, button.text) : document.createElement("button");
      if (!button.url) {
        key.type = "button";
        key.textContent = button.text;
        key.addEventListener("click", () => chat.tap(button.text, message.message_id));
      }
      line.append(key);
    }
    box.append(line);
  }
  return box;
}

// Text with Telegram entities (offsets are UTF-16 units, like JavaScript string indices).
function renderText(chat, text, entities) {
  const fragment = document.createDocumentFragment();
  const sorted = [...(entities || [])].sort((a, b) => a.offset - b.offset || b.length - a.length);
  build(chat, fragment, text, sorted, 0, text.length);
  return fragment;
}

function build(chat, parent, text, entities, start, end) {
  let position = start;
  for (const entity of entities) {
    const stop = entity.offset + entity.length;
    if (entity.offset < position || stop > end) continue;
    appendPlain(chat, parent, text.slice(position, entity.offset));
    const inner = entities.filter((e) => e !== entity && e.offset >= entity.offset && e.offset + e.length <= stop);
    const el = entityElement(chat, entity, text.slice(entity.offset, stop));
    build(chat, el, text, inner, entity.offset, stop);
    parent.append(el);
    position = stop;
  }
  appendPlain(chat, parent, text.slice(position, end));
}

// Plain text, with web addresses made clickable as Telegram's apps do.
function appendPlain(chat, parent, text) {
  if (parent.tagName === "A") return parent.append(text);
  let position = 0;
  for (const match of text.matchAll(/https?:\/\/[^\s<>"]+/g)) {
    parent.append(text.slice(position, match.index), link(chat, match[0], match[0]));
    position = match.index + match[0].length;
  }
  parent.append(text.slice(position));
}

function entityElement(chat, entity, content) {
  const tags = { bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre", blockquote: "blockquote" };
  if (entity.type === "text_link" || entity.type === "url") {
    const el = link(chat, entity.type === "url" ? content : entity.url, "");
    el.replaceChildren();
    return el;
  }
  const el = document.createElement(tags[entity.type] || "span");
  if (entity.type === "spoiler") el.className = "spoiler";
  if (entity.type === "bot_command") {
    el.className = "cmd";
    el.addEventListener("click", () => chat.send(content.split("@")[0]));
  }
  return el;
}

// Links; a deep link to our bot (t.me/<bot>?start=...) opens in a chat of the page.
function link(chat, url, label) {
  const el = document.createElement("a");
  el.href = url;
  el.textContent = label;
  el.target = "_blank";
  el.rel = "noopener";
  const match = /^https?:\/\/t\.me\/([A-Za-z0-9_]+)\?start=([A-Za-z0-9_-]+)$/.exec(url);
  if (match && match[1].toLowerCase() === page.botUsername.toLowerCase()) {
    el.addEventListener("click", (event) => {
      event.preventDefault();
      openDeepLink(chat, match[2]);
    });
  }
  return el;
}

function openDeepLink(fromChat, payload) {
  const dialog = $("#open-link");
  const choices = $("#open-link-choices");
  choices.replaceChildren();
  const choose = (label, run) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.addEventListener("click", async () => { dialog.close(); await run(); });
    choices.append(button);
  };
  for (const chat of page.chats.values()) {
    if (chat.id !== fromChat.id) choose(chat.person.name, () => chat.send(`/start ${payload}`));
  }
  if (page.sandbox) {
    choose(t("visitor"), async () => {
      const person = await newVisitor();
      page.chats.get(person.user_id).send(`/start ${payload}`);
    });
  }
  dialog.showModal();
}

// ---- live events ------------------------------------------------------------------------

async function follow() {
  for (;;) {
    try {
      const batch = await api("GET", `/_control/events?since=${page.since}&timeout=25`);
      const restarted = batch.last < page.since; // a new emulator counts events from 0
      page.since = batch.last;
      if (restarted) {
        for (const chat of page.chats.values()) await loadHistory(chat);
        continue;
      }
      for (const event of batch.events) apply(event);
    } catch {
      await sleep(1000);
    }
  }
}

function apply(event) {
  if (event.kind === "callback_answer") {
    const chat = page.chats.get(event.data.user_id);
    if (chat && event.data.text) toast(chat, event.data.text, event.data.show_alert);
    return;
  }
  const chat = page.chats.get(event.chat_id);
  if (chat && event.message && ["message", "edit", "delete"].includes(event.kind)) {
    upsert(chat, event.message);
    if (event.message.from_bot) refreshPerson(chat);
  }
}

// What the bot says may follow a change of role or branch (registered, appointed): reread
// the person once things are quiet.
function refreshPerson(chat) {
  if (!page.sandbox) return;
  clearTimeout(chat.refreshTimer);
  chat.refreshTimer = setTimeout(async () => {
    chat.person = await api("GET", `/_sandbox/people/${chat.id}`).catch(() => chat.person);
    renderHead(chat);
  }, 400);
}

// ---- people -----------------------------------------------------------------------------

async function loadRoster() {
  const roster = await api("GET", "/_sandbox/roster");
  const select = $("#person-select");
  const chosen = select.value;
  const groups = new Map();
  for (const entry of roster) {
    const label = `${entry.township} · ${entry.branch}`;
    if (!groups.has(label)) groups.set(label, []);
    groups.get(label).push(entry);
  }
  const option = (value, text) => Object.assign(document.createElement("option"), { value, textContent: text });
  const newcomers = Object.assign(document.createElement("optgroup"), { label: t("newcomers") });
  newcomers.append(option("visitor", t("visitor")));
  select.replaceChildren(option("", t("pick")), newcomers);
  for (const [label, entries] of groups) {
    const group = Object.assign(document.createElement("optgroup"), { label });
    for (const entry of entries) group.append(option(String(entry.member_id), entry.name));
    select.append(group);
  }
  select.value = chosen;
}

async function newVisitor() {
  const person = await api("POST", "/_sandbox/visitors", { language_code: $("#person-language").value });
  await openChat(person);
  return person;
}

async function addPerson() {
  const value = $("#person-select").value;
  if (!value) return;
  if (value === "visitor") return newVisitor();
  const person = await api("POST", "/_sandbox/people", {
    member_id: Number(value), language_code: $("#person-language").value,
  });
  await openChat(person);
}

async function start() {
  for (const button of document.querySelectorAll("[data-language]")) {
    button.addEventListener("click", () => applyLanguage(button.dataset.language));
  }
  for (const button of document.querySelectorAll("[data-jump]")) {
    button.addEventListener("click", () => jump(button.dataset.jump).catch((error) => {
      $("#clock-note").textContent = error.message;
    }));
  }
  $("#person-add").addEventListener("click", addPerson);
  // Asking for events after a far-off mark returns none, and the current mark to follow from.
  page.since = (await api("GET", "/_control/events?since=1000000000&timeout=0")).last;
  let people;
  try {
    const state = await api("GET", "/_sandbox/state");
    page.timezone = state.timezone;
    page.botUsername = state.bot_username;
    setClock(state);
    setInterval(renderClock, 1000);
    people = state.people;
    const saved = JSON.parse(localStorage.getItem("sandbox.chats") || "null");
    if (Array.isArray(saved) && saved.length) {
      const found = await Promise.all(saved.map((id) => api("GET", `/_sandbox/people/${id}`).catch(() => null)));
      people = found.filter(Boolean);
    }
  } catch {
    page.sandbox = false;
    document.body.classList.add("standalone");
    people = (await api("GET", "/_control/users")).map((user) => ({ user_id: user.id, name: user.first_name }));
  }
  applyLanguage(page.language);
  for (const person of people) await openChat(person);
  activate(people[0]?.user_id);
  follow();
  document.body.dataset.ready = "true"; // every chat is open and live
}

start();
