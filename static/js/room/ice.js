// @ts-check
// The ICE servers (STUN, TURN) the page's connections use, as the server hands them out.
// TURN's credentials expire, so they are fetched again when the server says (`renew_in`,
// counted by the server, so a browser's wrong clock does not matter): an ICE restart late in
// a long room, after a network change, still gets through the relay. `config` is one object,
// changed in place: connections made later take the fresh servers, and `onRenew` tells the
// transports to hand them to the connections already open.

export const RETRY_MIN_MS = 30_000;
export const RETRY_MAX_MS = 300_000;

export class IceServers {
  // fetchList(): resolves with the API's answer (GET /api/rtc/ice-servers/).
  constructor(fetchList, { onRenew = () => {}, timers = globalThis } = {}) {
    this.fetchList = fetchList;
    /** @type {(config: RTCConfiguration) => void} */
    this.onRenew = onRenew;
    this.timers = timers;
    this.config = {};
    this.timer = null;
    this.retry = RETRY_MIN_MS;
    this.started = false; // the first answer, or failure, is in: connections may be open
  }

  // Resolves when an answer is in or the fetch failed: without the list the browser still
  // connects on a local network, and it is asked for again (30 s, doubling up to 5 min).
  async load() {
    let next;
    try {
      const ice = await this.fetchList();
      this.config.iceServers = ice.ice_servers;
      this.config.iceTransportPolicy = ice.ice_transport_policy;
      this.retry = RETRY_MIN_MS;
      next = ice.renew_in == null ? null : ice.renew_in * 1000;
      if (this.started) this.onRenew(this.config);
    } catch {
      next = this.retry;
      this.retry = Math.min(this.retry * 2, RETRY_MAX_MS);
    }
    this.started = true;
    this.timers.clearTimeout(this.timer);
    this.timer = next == null ? null : this.timers.setTimeout(() => this.load(), next);
  }

  stop() {
    this.timers.clearTimeout(this.timer);
    this.timer = null;
  }
}
