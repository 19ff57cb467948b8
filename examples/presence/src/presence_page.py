"""The page the Worker serves: plain HTML and JavaScript, no external resources.

It is a Python string, so it deploys as part of the Worker's code with nothing to bundle.
"""

PAGE = r"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Presence</title>
<style>
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { margin: 0; display: grid; grid-template-rows: auto 1fr; height: 100vh; }
  header { display: flex; gap: .6rem; align-items: center; padding: .6rem 1rem;
           border-bottom: 1px solid #8884; flex-wrap: wrap; }
  header h1 { font-size: 1.1rem; margin: 0 auto 0 0; }
  #status { font-size: .85rem; color: #888; }
  #users { display: flex; gap: .4rem; list-style: none; margin: 0; padding: 0; }
  #users li { padding: .1rem .5rem; border-radius: 1rem; color: #fff; font-size: .85rem; }
  #board { position: relative; overflow: hidden; cursor: crosshair;
           background: repeating-linear-gradient(0deg, #8881 0 1px, transparent 1px 40px); }
  .cursor { position: absolute; pointer-events: none; transform: translate(-2px, -2px);
            transition: left .08s linear, top .08s linear; }
  .cursor span { display: inline-block; margin: 10px 0 0 10px; padding: 0 .4rem;
                 border-radius: .5rem; color: #fff; font-size: .8rem; white-space: nowrap; }
  input, select, button { font: inherit; padding: .2rem .4rem; }
</style>
</head>
<body>
<header>
  <h1>Document <span id="doc"></span></h1>
  <ul id="users" aria-label="here now"></ul>
  <span id="status">not connected</span>
  <form id="settings">
    <input name="name" placeholder="your name" size="10" maxlength="32" required>
    <select name="role"><option>editor</option><option>viewer</option></select>
    <select name="page"><option>1</option><option>2</option><option>3</option></select>
    <button>Connect</button>
  </form>
</header>
<main id="board"></main>
<script>
"use strict";
const match = location.pathname.match(/^\/doc\/([A-Za-z0-9_-]{1,64})/);
const doc = match ? match[1] : "welcome";
const $ = (selector) => document.querySelector(selector);
const board = $("#board"), usersList = $("#users"), statusLine = $("#status");
const settings = $("#settings");
$("#doc").textContent = doc;
settings.elements.name.value = localStorage.getItem("presence-name") || "";

let socket = null, me = null, retryDelay = 500, pinger = null, lastSent = 0;
const users = new Map();  // id -> user

function render() {
  const here = [...users.values()];
  if (me) here.push(me);
  usersList.replaceChildren(...here.map((user) => {
    const item = document.createElement("li");
    item.textContent = `${user.name} (${user.role}, p${user.page})`;  // never innerHTML
    item.style.background = user.color;
    return item;
  }));
  board.replaceChildren(...[...users.values()]
    .filter((user) => me && user.page === me.page && user.x !== null)
    .map((user) => {
      const cursor = document.createElement("div");
      cursor.className = "cursor";
      cursor.style.left = `${user.x * 100}%`;
      cursor.style.top = `${user.y * 100}%`;
      const label = document.createElement("span");
      label.textContent = user.name;
      label.style.background = user.color;
      cursor.append(label);
      return cursor;
    }));
}

function connect() {
  const f = settings.elements;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const query = new URLSearchParams({name: f.name.value.trim(), role: f.role.value,
                                     page: f.page.value});
  socket = new WebSocket(`${scheme}//${location.host}/doc/${doc}/ws?${query}`);
  statusLine.textContent = "connecting…";
  socket.onopen = () => {
    statusLine.textContent = "connected";
    retryDelay = 500;
    // Keeps idle connections alive; answered by the runtime without waking the room.
    pinger = setInterval(() => socket.send("ping"), 30000);
  };
  socket.onmessage = (event) => {
    if (event.data === "pong") return;
    const m = JSON.parse(event.data);
    if (m.type === "welcome") {
      me = m.you;
      users.clear();
      m.users.forEach((user) => users.set(user.id, user));
    } else if (m.type === "join") {
      users.set(m.user.id, m.user);
    } else if (m.type === "leave") {
      users.delete(m.id);
    } else if (m.type === "cursor" && users.has(m.id)) {
      Object.assign(users.get(m.id), {x: m.x, y: m.y});
    } else if (m.type === "error") {
      statusLine.textContent = m.detail;
    }
    render();
  };
  socket.onclose = (event) => {
    clearInterval(pinger);
    statusLine.textContent = `disconnected (${event.code}), reconnecting…`;
    setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 10000);
  };
}

board.addEventListener("pointermove", (event) => {
  if (!socket || socket.readyState !== WebSocket.OPEN || !me || me.role !== "editor") return;
  const now = Date.now();
  if (now - lastSent < 50) return;  // at most 20 updates a second
  lastSent = now;
  const box = board.getBoundingClientRect();
  const x = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
  const y = Math.min(1, Math.max(0, (event.clientY - box.top) / box.height));
  socket.send(JSON.stringify({type: "cursor", x, y}));
});

settings.addEventListener("submit", (event) => {
  event.preventDefault();
  localStorage.setItem("presence-name", settings.elements.name.value.trim());
  if (socket) { socket.onclose = null; socket.close(1000); clearInterval(pinger); }
  connect();
});

if (settings.elements.name.value) connect();
</script>
</body>
</html>
"""
