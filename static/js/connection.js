// The room's connection: the live-only status, how soon a lost socket comes back, and
// what the page does when the name it was drawn for ended in another tab.
(() => {
  const room = document.querySelector("[ws-connect]");
  if (!room) return;
  // The status is drawn hidden (pages without scripts never connect); scripts show it,
  // and CSS shows the text that matches.
  room.dataset.connection ||= "connecting";
  room.addEventListener("htmx:wsOpen", () => { room.dataset.connection = "open"; });
  room.addEventListener("htmx:wsClose", () => { room.dataset.connection = "closed"; });
  // No socket: forms post the plain way instead of waiting in htmx's hidden queue.
  document.addEventListener("submit", (event) => {
    if (room.dataset.connection !== "open") event.stopPropagation();
  }, true);

  // Coming back. htmx's ws extension waits up to a minute between tries; here it tries
  // again at once and the new socket waits first instead: a few seconds at most, with
  // jitter so a restarted server is not met by every page in the same instant, and not
  // at all when the browser is back online, the tab is shown again or the person
  // presses "Reconnect now".
  const MOST = 3000; // ms
  let failures = 0; // tries since the socket was last open
  let first = true;
  let dialNow = null; // ends the current wait
  htmx.config.wsReconnectDelay = () => 0;
  htmx.createWebSocket = (url) => {
    const wait = first ? 0 : Math.min(MOST, 250 * 2 ** failures) * (0.5 + Math.random() / 2);
    first = false;
    let socket = null;
    let timer = null;
    let dropped = false;
    const listeners = [];
    // Stands in for the WebSocket while it waits, then hands everything to the real one.
    const standIn = {
      OPEN: WebSocket.OPEN,
      get readyState() {
        if (socket) return socket.readyState;
        return dropped ? WebSocket.CLOSED : WebSocket.CONNECTING;
      },
      binaryType: htmx.config.wsBinaryType,
      onopen: null,
      onclose: null,
      onerror: null,
      addEventListener(type, handler) {
        if (socket) socket.addEventListener(type, handler); else listeners.push([type, handler]);
      },
      send(data) { socket.send(data); },
      close(...args) {
        if (socket) return socket.close(...args);
        dropped = true;
        clearTimeout(timer);
        if (dialNow === dial) dialNow = null;
      },
    };
    const dial = () => {
      clearTimeout(timer);
      if (dialNow === dial) dialNow = null;
      let opened = false;
      socket = new WebSocket(url, []);
      socket.binaryType = standIn.binaryType;
      socket.onopen = (event) => { opened = true; failures = 0; standIn.onopen?.(event); };
      socket.onclose = (event) => { if (!opened) failures += 1; standIn.onclose?.(event); };
      socket.onerror = (event) => standIn.onerror?.(event);
      for (const [type, handler] of listeners) socket.addEventListener(type, handler);
    };
    if (wait) {
      timer = setTimeout(dial, wait);
      dialNow = dial;
    } else {
      dial();
    }
    return standIn;
  };
  const reconnectNow = () => { if (room.dataset.connection !== "ended") dialNow?.(); };
  room.querySelector("[data-reconnect]")?.addEventListener("click", reconnectNow);
  addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") reconnectNow();
  });

  // The name this page was drawn for ended in another tab (logged out, or another name
  // picked): the server says who this browser is now, then closes with 4001
  // (rooms/consumers.py). The page stays as it is, says so, and sends nothing more.
  // Banned from the room (4005) ends the page the same way, with the reason pushed first.
  const ENDED = [4001, 4005];
  room.addEventListener("htmx:wsClose", (event) => {
    if (ENDED.includes(event.detail.event.code)) room.dataset.connection = "ended";
  });
  // Before any other handler: nothing is sent, and the text stays in the box.
  window.addEventListener("submit", (event) => {
    if (room.dataset.connection !== "ended" || !room.contains(event.target)) return;
    event.preventDefault();
    event.stopImmediatePropagation();
  }, true);
})();
