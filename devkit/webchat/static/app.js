/* The demo chat page: pick who you are and where you talk, send messages through the bot's webhook, and
   see the chat as the sandbox stores it (long-polled). Cards are drawn by cards.js (window.FeishuCards). */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const view = { setup: null, me: "", chat: "", cursor: -1, rendered: new Map(), picked: [], poll: null,
                 waitingFor: "" };

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

  function showPeople() {
    const select = $("who");
    for (const p of view.setup.people) {
      const option = el("option", "", p.name + (p.en_name && p.en_name !== p.name ? " · " + p.en_name : "") +
                                      " — " + p.department);
      option.value = p.open_id;
      select.appendChild(option);
    }
    select.addEventListener("change", () => become(select.value));
  }

  function become(openId, chatId) {
    view.me = openId;
    $("who").value = openId;
    const p = personOf(openId);
    $("who-detail").textContent = p ? (p.title || "") + (p.title ? " · " : "") + p.department : "";
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
      item.addEventListener("click", () => open(chat.chat_id));
      list.appendChild(item);
    }
    const wanted = chats.find((c) => c.chat_id === chatId) ? chatId : chats[0].chat_id;
    open(wanted);
  }

  function open(chatId) {
    view.chat = chatId;
    view.cursor = -1;
    view.rendered = new Map();
    view.waitingFor = "";
    $("typing").hidden = true;
    $("messages").textContent = "";
    for (const item of $("chats").children) item.classList.toggle("active", item.dataset.chatId === chatId);
    const chat = chatsOf(view.me).find((c) => c.chat_id === chatId);
    $("chat-title").textContent = chat.name;
    $("chat-subtitle").textContent = chat.direct ? "Direct chat with the bot — commands need no @"
      : chat.members.length + " members · your messages @-mention " + view.setup.bot.name;
    history.replaceState(null, "", "#as=" + encodeURIComponent(view.me) + "&chat=" + encodeURIComponent(chatId));
    refresh(false);
    $("input").focus();
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
      onOpenUrl: (url) => window.open(url, "_blank"),
    });
  }

  function renderMessage(message) {
    const mine = message.from === "user" && message.sender === view.me;
    const row = el("div", "msg " + (message.from === "bot" ? "from-bot" : "from-user") + (mine ? " mine" : ""));
    row.dataset.messageId = message.message_id;
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

  function show(messages) {
    const list = $("messages");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    for (const message of messages) {
      const old = view.rendered.get(message.message_id);
      if (old && old.dataset.version === message.version) continue;
      const row = renderMessage(message);
      if (old) old.replaceWith(row); else list.appendChild(row);
      view.rendered.set(message.message_id, row);
      if (message.reply_to && message.reply_to === view.waitingFor) {
        view.waitingFor = "";
        $("typing").hidden = true;
      }
    }
    if (atBottom || messages.length) list.scrollTop = list.scrollHeight;
  }

  async function refresh(wait) {
    const chat = view.chat;
    const data = await api("/api/messages?chat_id=" + encodeURIComponent(chat) + "&after=" + view.cursor +
                           "&wait=" + (wait ? 25 : 0));
    if (chat !== view.chat) return;  // switched chats while waiting
    view.cursor = data.cursor;
    show(data.messages);
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
    const mentions = view.picked.filter((m) => text.includes("@" + m.name));
    input.value = "";
    view.picked = [];
    hideMentions();
    try {
      const sent = await post("/api/say", { open_id: view.me, chat_id: view.chat, text, mentions });
      view.waitingFor = sent.message_id;
      $("typing").hidden = false;
      await refresh(false);
    } catch (err) {
      input.value = text;
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

  async function runJobs() {
    const button = $("run-jobs");
    const status = $("jobs-status");
    button.disabled = true;
    status.textContent = "Running the scheduled jobs…";
    try {
      const data = await post("/api/run-jobs", {});  // JSON, like every POST: the page refuses anything else
      status.textContent = "";
      if (!data.runs.length) status.textContent = "No subscriptions yet: try `digest on` or, in a group, `remind okr fri 17:00`.";
      for (const run of data.runs) {
        status.appendChild(el("div", "job job-" + run.status.replace(/\s+/g, "-"), run.name + ": " + run.status +
                                                       (run.error ? " (" + run.error + ")" : "")));
      }
      await refresh(false);
    } catch (err) {
      status.textContent = "Could not run the jobs: " + err.message;
    } finally {
      button.disabled = false;
    }
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
    input.addEventListener("input", showMentions);
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
