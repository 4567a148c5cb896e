/* The demo chat page: pick who you are and where you talk, send messages through the bot's webhook, and
   see the chat as the sandbox stores it (long-polled). Cards are drawn by cards.js (window.FeishuCards). */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  // pending: the ids of messages sent from this page whose reply has not shown yet ("OKR bot is working…")
  const view = { setup: null, me: "", chat: "", cursor: -1, rendered: new Map(), picked: [], poll: null,
                 pending: new Set(), replied: new Set() };

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  async function api(path, options) {
    const response = await fetch(path, options);
    const data = await response.json().catch(() => ({ error: response.statusText }));
    if (!response.ok) throw new Error(data.error || ("HTTP " + response.status));
    return data;
  }

  const post = (path, payload) => api(path, { method: "POST", headers: { "Content-Type": "application/json" },
                                              body: JSON.stringify(payload) });

  let toastTimer = 0;
  function toast(text, kind) {
    const box = $("toast");
    box.textContent = text;
    box.className = kind || "info";
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { box.hidden = true; }, 4000);
  }

  function initials(name) {
    return (name || "?").trim().slice(0, name && /^[\x00-\x7f]/.test(name) ? 2 : 1).toUpperCase();
  }

  function avatar(openId, name) {
    const box = el("span", "avatar", initials(name));
    let hash = 0;
    for (const ch of openId || name || "") hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
    box.style.background = "hsl(" + (hash % 360) + ", 55%, 55%)";
    return box;
  }

  const personOf = (openId) => view.setup.people.find((p) => p.open_id === openId);
  const nameOf = (openId) => view.setup.names[openId] || openId;

  // ---- who and where ------------------------------------------------------------------------------------
  function chatsOf(openId) {
    const direct = { chat_id: view.setup.direct_chats[openId], name: view.setup.bot.name,
                     description: "Direct chat with the bot", direct: true };
    const groups = view.setup.groups.filter((g) => g.members.includes(openId));
    return [direct].concat(groups);
  }

  const ROLE_TAGS = { admin: "Admin", manager: "Manager" };

  function showPeople() {
    const select = $("who");
    for (const p of view.setup.people) {
      const tags = (p.roles || []).map((r) => "[" + ROLE_TAGS[r] + "]").join(" ");
      const option = el("option", "", p.name + (p.en_name && p.en_name !== p.name ? " · " + p.en_name : "") +
                                      " — " + p.department + (tags ? "  " + tags : ""));
      option.value = p.open_id;
      option.dataset.roles = (p.roles || []).join(" ");
      select.appendChild(option);
    }
    select.addEventListener("change", () => become(select.value));
  }

  function showRoles(p) {  // the person's tags, and what each of their roles lets them do
    const tags = $("who-tags");
    const can = $("who-can");
    tags.textContent = "";
    can.textContent = "";
    const roles = p ? (p.roles || []) : [];
    for (const role of roles) tags.appendChild(el("span", "tag tag-" + role, ROLE_TAGS[role]));
    for (const role of roles.concat(["member"])) {
      if (view.setup.roles && view.setup.roles[role]) can.appendChild(el("li", "", view.setup.roles[role]));
    }
  }

  function become(openId, chatId) {
    view.me = openId;
    $("who").value = openId;
    const p = personOf(openId);
    $("who-detail").textContent = p ? (p.title || "") + (p.title ? " · " : "") + p.department : "";
    showRoles(p);
    const list = $("chats");
    list.textContent = "";
    const chats = chatsOf(openId);
    for (const chat of chats) {
      const item = el("li", "chat");
      item.dataset.chatId = chat.chat_id;
      item.appendChild(chat.direct ? avatar(view.setup.bot.open_id, "OKR") : avatar(chat.chat_id, chat.name));
      const label = el("span", "chat-label");
      label.appendChild(el("span", "chat-name", chat.name));
      label.appendChild(el("span", "chat-desc muted", chat.direct ? "Direct chat" : chat.members.length + " members"));
      item.appendChild(label);
      item.addEventListener("click", () => { document.body.classList.remove("show-sidebar"); open(chat.chat_id); });
      list.appendChild(item);
    }
    const wanted = chats.find((c) => c.chat_id === chatId) ? chatId : chats[0].chat_id;
    open(wanted);
  }

  async function open(chatId) {
    view.chat = chatId;
    view.cursor = -1;
    view.rendered = new Map();
    view.pending = new Set();
    view.replied = new Set();
    $("typing").hidden = true;
    $("messages").textContent = "";
    delete $("messages").dataset.loaded;
    for (const item of $("chats").children) item.classList.toggle("active", item.dataset.chatId === chatId);
    const chat = chatsOf(view.me).find((c) => c.chat_id === chatId);
    $("chat-title").textContent = chat.name;
    $("chat-subtitle").textContent = chat.direct ? "Direct chat with the bot — commands need no @"
      : chat.members.length + " members · your messages @-mention " + view.setup.bot.name;
    history.replaceState(null, "", "#as=" + encodeURIComponent(view.me) + "&chat=" + encodeURIComponent(chatId));
    $("input").focus();
    try {
      // The first time someone opens their direct chat with the bot, Feishu tells the bot, and it greets them:
      // the answer comes once the greeting is in the chat, so it shows first.
      if (chat.direct) await post("/api/open", { open_id: view.me, chat_id: chatId });
      if (chatId !== view.chat) return;
      await refresh(false);
      if (chatId === view.chat) $("messages").dataset.loaded = chatId;
    } catch (err) {
      toast("Could not open the chat: " + err.message, "error");
    }
  }

  // ---- messages -----------------------------------------------------------------------------------------
  function textWithMentions(message) {
    const box = el("div", "text");
    const byKey = new Map((message.mentions || []).map((m) => [m.key, m]));
    const parts = (message.text || "").split(/(@_user_\d+)/);
    for (const part of parts) {
      const mention = byKey.get(part);
      if (mention) box.appendChild(el("span", "mention", "@" + (mention.name || nameOf(mention.open_id))));
      else if (part) box.appendChild(document.createTextNode(part));
    }
    return box;
  }

  function renderCard(message) {
    if (!window.FeishuCards) {
      return el("pre", "card-json", JSON.stringify(message.card, null, 2));
    }
    return window.FeishuCards.render(message.card, {
      names: view.setup.names,
      onAction: (value, info) => press(message.message_id, value, info || {}),
      me: view.me,
      onOpenUrl: (url) => window.open(withLoginHint(url), "_blank"),
    });
  }

  // The bot's authorisation link names no person (Feishu's consent page asks whoever is signed in); the
  // sandbox's consent page preselects `login_hint`, so the link opens for the person you are on this page.
  function withLoginHint(url) {
    try {
      const parsed = new URL(url, location.href);
      if (parsed.pathname.endsWith("/authen/v1/authorize") && !parsed.searchParams.has("login_hint")) {
        parsed.searchParams.set("login_hint", view.me);
        return parsed.toString();
      }
    } catch (err) { /* not a URL: open it as it is */ }
    return url;
  }

  function renderMessage(message) {
    const mine = message.from === "user" && message.sender === view.me;
    const row = el("div", "msg " + (message.from === "bot" ? "from-bot" : "from-user") + (mine ? " mine" : ""));
    row.dataset.messageId = message.message_id;
    row.dataset.replyTo = message.reply_to || "";  // the message this one answers (drivers wait on it)
    row.dataset.version = message.version;
    row.dataset.from = message.from;
    const who = message.from === "bot" ? view.setup.bot.name : nameOf(message.sender);
    row.appendChild(avatar(message.from === "bot" ? view.setup.bot.open_id : message.sender,
                           message.from === "bot" ? "OKR" : who));
    const column = el("div", "msg-body");
    const meta = el("div", "msg-meta muted", who + " · " + new Date(message.time).toLocaleTimeString());
    if (message.updated) meta.appendChild(el("span", "edited", " (updated)"));
    column.appendChild(meta);
    column.appendChild(message.card ? renderCard(message) : textWithMentions(message));
    row.appendChild(column);
    return row;
  }

  function showTyping() { $("typing").hidden = view.pending.size === 0; }

  function show(messages) {
    const list = $("messages");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    for (const message of messages) {
      // Every reply counts, also one already drawn: the long poll may show a reply before the send that
      // asked for it has even returned its message id.
      if (message.reply_to) {
        view.replied.add(message.reply_to);
        view.pending.delete(message.reply_to);
      }
      const old = view.rendered.get(message.message_id);
      if (old && old.dataset.version === message.version) continue;
      const row = renderMessage(message);
      if (old) old.replaceWith(row); else list.appendChild(row);
      view.rendered.set(message.message_id, row);
    }
    showTyping();
    if (atBottom || messages.length) list.scrollTop = list.scrollHeight;
  }

  async function refresh(wait) {
    const chat = view.chat;
    const data = await api("/api/messages?chat_id=" + encodeURIComponent(chat) + "&after=" + view.cursor +
                           "&wait=" + (wait ? 25 : 0));
    if (chat !== view.chat) return;  // switched chats while waiting
    view.cursor = data.cursor;
    show(data.messages);
    const list = $("messages");
    list.dataset.refreshes = String(Number(list.dataset.refreshes || 0) + 1);  // for tests: a refresh is drawn
  }

  async function pollForever() {
    for (;;) {
      try {
        await refresh(true);
      } catch (err) {
        toast("Lost the demo server: " + err.message, "error");
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    }
  }

  // ---- sending ------------------------------------------------------------------------------------------
  async function send() {
    const input = $("input");
    const text = input.value.trim();
    if (!text) return;
    if (text.length > maxText()) { showCount(); return; }  // the note under the input says why
    const mentions = view.picked.filter((m) => text.includes("@" + m.name));
    const chat = view.chat;
    input.value = "";
    showCount();
    view.picked = [];
    hideMentions();
    try {
      const sent = await post("/api/say", { open_id: view.me, chat_id: chat, text, mentions });
      if (chat === view.chat && !view.replied.has(sent.message_id)) view.pending.add(sent.message_id);
      showTyping();
      await refresh(false);
    } catch (err) {
      input.value = text;
      showCount();
      toast("Not sent: " + err.message, "error");
    }
  }

  async function press(messageId, value, info) {
    try {
      const answer = await post("/api/click", { open_id: view.me, message_id: messageId, value,
                                                form_value: info.formValue, option: info.option, name: info.name });
      if (answer.toast && answer.toast.content) toast(answer.toast.content, answer.toast.type);
      await refresh(false);
    } catch (err) {
      toast("The button failed: " + err.message, "error");
    }
  }

  function showRuns(runs) {
    const status = $("jobs-status");
    status.textContent = "";
    if (!runs.length) status.textContent = "No subscriptions yet: try `digest on` or, in a group, `remind okr fri 17:00`.";
    for (const run of runs) {
      status.appendChild(el("div", "job job-" + run.status.replace(/\s+/g, "-"), run.name + ": " + run.status +
                                                     (run.error ? " (" + run.error + ")" : "")));
    }
  }

  async function runJobs() {
    const button = $("run-jobs");
    const status = $("jobs-status");
    button.disabled = true;
    status.textContent = "Running the scheduled jobs…";
    try {
      // JSON, like every POST: the page refuses anything else. The answer comes at once; each run's status
      // is then followed until it has ended.
      let runs = (await post("/api/run-jobs", {})).runs;
      showRuns(runs);
      const started = Date.now();
      while (runs.some((r) => r.status === "running") && Date.now() - started < 120000) {
        runs = (await api("/api/jobs?wait=2")).runs;
        showRuns(runs);
        if (runs.some((r) => r.status === "running")) await new Promise((resolve) => setTimeout(resolve, 500));
      }
      await refresh(false);
    } catch (err) {
      status.textContent = "Could not run the jobs: " + err.message;
    } finally {
      button.disabled = false;
    }
  }

  // ---- how long a message may be -------------------------------------------------------------------------
  const maxText = () => (view.setup && view.setup.max_text) || 4000;

  function showCount() {  // under the input: how much is left near the limit, and why Send refuses past it
    const length = $("input").value.trim().length;
    const note = $("input-note");
    const over = length > maxText();
    note.hidden = length < maxText() * 0.9;
    note.classList.toggle("over", over);
    note.textContent = over
      ? "Too long: " + length.toLocaleString("en") + " of at most " + maxText().toLocaleString("en") +
        " characters. Shorten it to send. / 消息太长，请删减后再发送。"
      : length.toLocaleString("en") + " / " + maxText().toLocaleString("en");
    $("send").disabled = over;
  }

  // ---- @-mentions ---------------------------------------------------------------------------------------
  function hideMentions() { $("mention-list").hidden = true; }

  function mentionQuery() {
    const input = $("input");
    const before = input.value.slice(0, input.selectionStart);
    const match = /@([^\s@]*)$/.exec(before);
    return match ? match[1] : null;
  }

  function showMentions() {
    const query = mentionQuery();
    const box = $("mention-list");
    if (query === null) { hideMentions(); return; }
    const needle = query.toLowerCase();
    const found = view.setup.people.filter((p) => !needle || p.name.toLowerCase().startsWith(needle) ||
                                                  (p.en_name || "").toLowerCase().startsWith(needle)).slice(0, 8);
    box.textContent = "";
    for (const p of found) {
      const option = el("div", "mention-option");
      option.setAttribute("role", "option");
      option.dataset.openId = p.open_id;
      option.appendChild(avatar(p.open_id, p.name));
      option.appendChild(el("span", "", p.name));
      option.appendChild(el("span", "muted", " " + (p.en_name || "") + " · " + p.department));
      option.addEventListener("mousedown", (event) => { event.preventDefault(); pickMention(p); });
      box.appendChild(option);
    }
    box.hidden = !found.length;
  }

  function pickMention(p) {
    const input = $("input");
    const at = input.selectionStart;
    const before = input.value.slice(0, at).replace(/@([^\s@]*)$/, "@" + p.name + " ");
    input.value = before + input.value.slice(at);
    input.selectionStart = input.selectionEnd = before.length;
    view.picked.push({ open_id: p.open_id, name: p.name });
    hideMentions();
    input.focus();
  }

  function wireComposer() {
    const input = $("input");
    input.addEventListener("input", () => { showMentions(); showCount(); });
    input.addEventListener("keydown", (event) => {
      const box = $("mention-list");
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        if (!box.hidden && box.firstChild) pickMention(personOf(box.firstChild.dataset.openId));
        else send();
      } else if (event.key === "Escape") {
        hideMentions();
      }
    });
    input.addEventListener("blur", hideMentions);
    $("send").addEventListener("click", send);
    $("mention").addEventListener("click", () => {
      const at = input.selectionStart;
      input.value = input.value.slice(0, at) + "@" + input.value.slice(at);
      input.selectionStart = input.selectionEnd = at + 1;
      input.focus();
      showMentions();
    });
    $("run-jobs").addEventListener("click", runJobs);
    $("menu").addEventListener("click", () => document.body.classList.toggle("show-sidebar"));
  }

  async function start() {
    view.setup = await api("/api/setup");
    showPeople();
    wireComposer();
    if (!view.setup.scheduler) $("run-jobs").disabled = true;
    const hash = new URLSearchParams(location.hash.slice(1));
    const who = personOf(hash.get("as") || "") ? hash.get("as") : view.setup.me;
    become(who, hash.get("chat") || "");
    document.body.dataset.ready = "1";
    pollForever();
  }

  start().catch((err) => toast("The demo page could not start: " + err.message, "error"));
})();
