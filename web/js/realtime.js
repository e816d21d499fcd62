// The Socket.IO protocol of docs/realtime.md, as a browser client should speak it:
// join the spaces on screen, keep the last applied seq per space, apply each event once and
// in order, and after a dropped connection `resume` from that seq instead of joining again.

import { refreshTokens, session } from "./api.js";

const ACK_TIMEOUT_MS = 10000;
const GAP_WAIT_MS = 1000; // how long an out-of-order event waits for the missing one before resuming

export class Realtime {
  constructor() {
    this.socket = null;
    this.lastSeq = new Map(); // space id -> last seq applied
    this.watched = new Set(); // spaces this page wants events of
    this.early = new Map(); // space id -> events that came before the join ack
    this.ahead = new Map(); // space id -> Map(seq -> event) waiting for a missing seq
    this.gapTimers = new Map();
    this.resuming = new Set();
    this.handlers = new Map(); // name -> Set(fn)
    this.everConnected = false;
    this.serverEvents = new Set();
  }

  /** Listen to "space_event", "typing", "presence", "status", "resync", "access_lost"; returns an unsubscribe. */
  on(name, fn) {
    if (!this.handlers.has(name)) this.handlers.set(name, new Set());
    this.handlers.get(name).add(fn);
    return () => this.handlers.get(name).delete(fn);
  }

  /** Listen to another server event (e.g. report progress); returns an unsubscribe. */
  onServer(name, fn) {
    if (!this.serverEvents.has(name)) {
      this.serverEvents.add(name);
      this.socket?.on(name, (payload) => this.fire(name, payload));
    }
    return this.on(name, fn);
  }

  fire(name, payload) {
    for (const fn of this.handlers.get(name) || []) {
      try { fn(payload); } catch (error) { console.error(error); }
    }
  }

  start() {
    if (this.socket) return;
    // `auth` as a function: every reconnection sends the current (possibly refreshed) token.
    this.socket = window.io({ auth: (cb) => cb({ token: session.access }), transports: ["websocket"], reconnectionDelayMax: 3000 });
    const s = this.socket;
    s.on("connect", () => this.connected());
    s.on("disconnect", (reason) => this.fire("status", { state: "offline", reason }));
    s.on("connect_error", (error) => this.refused(error));
    s.on("space_event", (event) => this.receive(event));
    s.on("typing", (payload) => this.fire("typing", payload));
    s.on("presence", (payload) => this.fire("presence", payload));
    s.on("access_lost", (payload) => {
      this.forget(payload.space_id);
      this.fire("access_lost", payload);
    });
    s.on("access_revoked", () => session.clear("You were signed out (this session was ended)."));
    for (const name of this.serverEvents) s.on(name, (payload) => this.fire(name, payload));
    // A phone that loses its network may keep a dead socket for a while: drop it at once and
    // let the client reconnect (and resume) as soon as the network is back.
    window.addEventListener("offline", this.onOffline = () => s.io.engine?.close());
  }

  stop() {
    if (!this.socket) return;
    window.removeEventListener("offline", this.onOffline);
    this.socket.disconnect();
    this.socket = null;
    this.lastSeq.clear();
    this.watched.clear();
  }

  async refused(error) {
    const code = error?.data?.code;
    this.fire("status", { state: "offline", reason: error?.message });
    if (code === "token_expired" && session.refresh) {
      try {
        await refreshTokens();
        this.socket?.connect();
      } catch { /* the session ended; the page shows the login form */ }
    } else if (code === "too_many_connections") {  // the session is still good: say why, keep it
      this.fire("status", { state: "refused", reason: "Too many tabs or devices are connected: close one, then reload this page." });
    } else if (code) {
      session.clear("Your session has ended; please log in again.");
    }
  }

  async connected() {
    const again = this.everConnected;
    this.everConnected = true;
    this.fire("status", { state: "online", again });
    let replayed = 0;
    for (const spaceId of this.watched) {
      replayed += this.lastSeq.has(spaceId) ? await this.resume(spaceId) : (await this.join(spaceId), 0);
    }
    if (again) this.fire("status", { state: "caught-up", replayed });
  }

  /** Ask for a space's events (and only that space's); resolves with the join ack once subscribed. */
  async watch(spaceId) {
    for (const other of [...this.watched]) if (other !== spaceId) this.unwatch(other);
    this.watched.add(spaceId);
    if (this.lastSeq.has(spaceId)) return { ok: true, space_id: spaceId, last_seq: this.lastSeq.get(spaceId) };
    if (!this.socket?.connected) return new Promise((resolve) => this.waitFor(spaceId, resolve));
    return this.join(spaceId);
  }

  waitFor(spaceId, resolve) {
    const stop = this.on("joined", (ack) => {
      if (ack.space_id === spaceId) { stop(); resolve(ack); }
    });
  }

  unwatch(spaceId) {
    if (!this.watched.delete(spaceId)) return;
    this.forget(spaceId);
    if (this.socket?.connected) this.socket.emit("leave", { space_id: spaceId });
  }

  unwatchAll() {
    for (const spaceId of [...this.watched]) this.unwatch(spaceId);
  }

  forget(spaceId) {
    for (const map of [this.lastSeq, this.early, this.ahead]) map.delete(spaceId);
    clearTimeout(this.gapTimers.get(spaceId));
  }

  async join(spaceId) {
    this.early.set(spaceId, []);
    const ack = await this.call("join", { space_id: spaceId });
    if (!ack.ok) {
      this.watched.delete(spaceId);
      this.early.delete(spaceId);
      return ack;
    }
    this.lastSeq.set(spaceId, ack.last_seq);
    const early = this.early.get(spaceId) || [];
    this.early.delete(spaceId);
    for (const event of early) this.receive(event);
    this.fire("joined", ack);
    return ack;
  }

  /** Replay what this page missed, page by page; returns how many events came back. */
  async resume(spaceId) {
    if (this.resuming.has(spaceId)) return 0;
    this.resuming.add(spaceId);
    let replayed = 0;
    try {
      for (;;) {
        const ack = await this.call("resume", { space_id: spaceId, after_seq: this.lastSeq.get(spaceId) });
        if (!ack.ok) {
          if (ack.error?.code === "resync_required") this.resync(spaceId);
          return replayed;
        }
        replayed += ack.replayed;
        if (!ack.more) return replayed;
      }
    } finally {
      this.resuming.delete(spaceId);
    }
  }

  resync(spaceId) {
    this.forget(spaceId);
    this.fire("resync", { space_id: spaceId }); // the view reloads over REST and watches again
  }

  /** Apply `seq == last + 1`, ignore `seq <= last`, hold `seq > last + 1` briefly, then resume. */
  receive(event) {
    const spaceId = event.space_id;
    if (this.early.has(spaceId)) { this.early.get(spaceId).push(event); return; }
    if (!this.lastSeq.has(spaceId)) return;
    const last = this.lastSeq.get(spaceId);
    if (event.seq <= last) return;
    if (event.seq > last + 1) { this.holdAhead(event); return; }
    this.lastSeq.set(spaceId, event.seq);
    this.fire("space_event", event);
    const ahead = this.ahead.get(spaceId);
    const next = ahead?.get(event.seq + 1);
    if (next) { ahead.delete(next.seq); this.receive(next); }
    if (ahead && ahead.size === 0) clearTimeout(this.gapTimers.get(spaceId));
  }

  holdAhead(event) {
    const spaceId = event.space_id;
    if (!this.ahead.has(spaceId)) this.ahead.set(spaceId, new Map());
    this.ahead.get(spaceId).set(event.seq, event);
    clearTimeout(this.gapTimers.get(spaceId));
    this.gapTimers.set(spaceId, setTimeout(() => {
      this.ahead.delete(spaceId);
      if (this.socket?.connected && this.lastSeq.has(spaceId)) this.resume(spaceId);
    }, GAP_WAIT_MS));
  }

  /** Emit with an acknowledgement; a timeout or a dropped socket answers like a server error. */
  call(event, payload) {
    return new Promise((resolve) => {
      if (!this.socket) {
        resolve({ ok: false, error: { code: "offline", message: "Not connected." } });
        return;
      }
      this.socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, (error, ack) => {
        resolve(error ? { ok: false, error: { code: "timeout", message: "The platform did not answer in time." } } : ack);
      });
    });
  }

  /** Post with an idempotency key: a retry after a timeout never makes a second post. */
  async post(payload, attempts = 3) {
    let ack;
    for (let i = 0; i < attempts; i += 1) {
      ack = await this.call("post", payload);
      if (ack.ok || ack.error?.code !== "timeout") return ack;
    }
    return ack;
  }

  typing(threadId) {
    if (this.socket?.connected) this.socket.emit("typing", { thread_id: threadId });
  }

  presence(spaceId) {
    return this.call("presence", { space_id: spaceId });
  }
}

export const realtime = new Realtime();
