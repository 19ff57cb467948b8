"""The chat page the Worker serves: plain HTML and JavaScript, no external resources.

It is a Python string, so it deploys as part of the Worker's code with nothing to bundle.
"""

PAGE = r"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Chat</title>
<style>
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { margin: 0; display: grid; grid-template-rows: auto 1fr auto; height: 100vh; }
  header, form { display: flex; gap: .5rem; align-items: center; padding: .6rem 1rem;
                 border-color: #8884; border-style: solid; border-width: 0 0 1px; }
  form { border-width: 1px 0 0; }
  header h1 { font-size: 1.1rem; margin: 0 auto 0 0; }
  main { display: grid; grid-template-columns: 1fr 12rem; min-height: 0; }
  #log { list-style: none; margin: 0; padding: .6rem 1rem; overflow-y: auto; }
  #log li { margin: .2rem 0; overflow-wrap: anywhere; }
  #log .who { font-weight: 600; margin-right: .4rem; }
  #log .when { color: #888; font-size: .8em; margin-right: .4rem; }
  #log .note { color: #888; font-style: italic; }
  #log .error { color: #c33; }
  aside { border-left: 1px solid #8884; padding: .6rem 1rem; overflow-y: auto; }
  aside h2 { font-size: .9rem; margin: 0 0 .4rem; }
  aside ul { list-style: none; margin: 0; padding: 0; }
  #status { font-size: .85rem; color: #888; }
  input[name=text] { flex: 1; }
  input, button { font: inherit; padding: .3rem .5rem; }
</style>
</head>
<body>
<header>
  <h1>Room <span id="room"></span></h1>
  <span id="status">not connected</span>
  <form id="room-form" style="border:0;padding:0">
    <input name="room" placeholder="room" size="10" pattern="[A-Za-z0-9_-]{1,64}" required>
    <button>Go</button>
  </form>
</header>
<main>
  <ul id="log" aria-live="polite"></ul>
  <aside><h2>Here now</h2><ul id="users"></ul></aside>
</main>
<form id="send-form">
  <input name="name" placeholder="your name" size="12" maxlength="32" required>
  <input name="text" placeholder="message" maxlength="2000" autocomplete="off" disabled>
  <button id="send-button">Join</button>
</form>
<script>
"use strict";
const match = location.pathname.match(/^\/room\/([A-Za-z0-9_-]{1,64})/);
const room = match ? match[1] : "lobby";
const $ = (selector) => document.querySelector(selector);
const log = $("#log"), users = $("#users"), statusLine = $("#status");
const sendForm = $("#send-form"), nameInput = sendForm.elements.name;
const textInput = sendForm.elements.text, sendButton = $("#send-button");
$("#room").textContent = room;
$("#room-form").elements.room.value = room;
nameInput.value = localStorage.getItem("chat-name") || "";

let socket = null, joinedAs = null, retryDelay = 500, pinger = null;

function line(parts, className) {
  const item = document.createElement("li");
  if (className) item.className = className;
  for (const [text, cls] of parts) {
    const span = document.createElement("span");
    span.textContent = text;  // never innerHTML: names and texts come from other people
    if (cls) span.className = cls;
    item.append(span);
  }
  const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
  log.append(item);
  if (atBottom) log.scrollTop = log.scrollHeight;
}

function showMessage(m) {
  const when = new Date(m.ts).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
  line([[when, "when"], [m.name, "who"], [m.text, null]]);
}

function showUsers(names) {
  users.replaceChildren(...names.map((name) => {
    const item = document.createElement("li");
    item.textContent = name;
    return item;
  }));
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(`${scheme}//${location.host}/room/${room}/ws`);
  statusLine.textContent = "connecting…";
  socket.onopen = () => {
    statusLine.textContent = "connected";
    retryDelay = 500;
    if (joinedAs) socket.send(JSON.stringify({type: "join", name: joinedAs}));
    // Keeps idle connections alive; answered by the runtime without waking the room.
    pinger = setInterval(() => socket.send("ping"), 30000);
  };
  socket.onmessage = (event) => {
    if (event.data === "pong") return;
    const m = JSON.parse(event.data);
    if (m.type === "history") {
      log.replaceChildren();
      m.messages.forEach(showMessage);
    } else if (m.type === "message") {
      showMessage(m);
    } else if (m.type === "presence") {
      showUsers(m.users);
      if (m.joined) line([[`${m.joined} joined`, null]], "note");
      if (m.left) line([[`${m.left} left`, null]], "note");
    } else if (m.type === "error") {
      const wait = m.retry_after ? ` (try again in ${Math.ceil(m.retry_after)} s)` : "";
      line([[m.detail + wait, null]], "error");
    }
  };
  socket.onclose = (event) => {
    clearInterval(pinger);
    statusLine.textContent = `disconnected (${event.code}), reconnecting…`;
    setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 10000);
  };
}

sendForm.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!socket || socket.readyState !== WebSocket.OPEN) return;
  if (!joinedAs) {
    joinedAs = nameInput.value.trim();
    localStorage.setItem("chat-name", joinedAs);
    socket.send(JSON.stringify({type: "join", name: joinedAs}));
    nameInput.disabled = true;
    textInput.disabled = false;
    sendButton.textContent = "Send";
    textInput.focus();
    return;
  }
  const text = textInput.value;
  if (!text.trim()) return;
  socket.send(JSON.stringify({type: "message", text}));
  textInput.value = "";
});

$("#room-form").addEventListener("submit", (event) => {
  event.preventDefault();
  location.href = `/room/${event.target.elements.room.value}`;
});

connect();
</script>
</body>
</html>
"""
