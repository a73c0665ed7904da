/**
 * A chat user that keeps talking while its server goes away: it sends numbered messages to a peer,
 * counts what the server acknowledged with stream management (XEP-0198: <r/> after each message,
 * <a h/> back), and when its connection drops it logs in again through the tenant Service and sends
 * again what was not acknowledged, as XEP-0198 tells a client that cannot resume to do. It records
 * every message that reached it, live or from offline storage after a reconnect.
 */
import xml, { type Element } from "@xmpp/xml";
import { loginXmpp, type XmppLoginOptions, type XmppSession } from "../../workload/support/ejabberd-client.js";

const NS_SM = "urn:xmpp:sm:3";

export interface ChatterReport {
  /** Bodies the server acknowledged. */
  acked: Set<string>;
  /** Bodies sent more than once (sent again after a reconnect, unacknowledged before). */
  resent: Set<string>;
  /** Bodies received from the peer, with how many times each arrived. */
  received: Map<string, number>;
  reconnects: number;
}

export class AckedChatter {
  private session: XmppSession | undefined;
  private connecting: Promise<void> | undefined;
  private stopped = false;
  private counter = 0;
  /** Not yet acknowledged, in order; the first `sentOnStream` of them went out on the current stream. */
  private queue: string[] = [];
  private sentOnStream = 0;
  /** Stream management is on for the current stream (<enabled/> came), and its counters. */
  private enabled = false;
  private ackedOnStream = 0;
  private inbound = 0;
  private flushing = false;
  private readonly sentEver = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  readonly report: ChatterReport = { acked: new Set(), resent: new Set(), received: new Map(), reconnects: 0 };
  readonly errors: string[] = [];

  constructor(
    private readonly name: string,
    private readonly login: Omit<XmppLoginOptions, "beforePresence">,
    /** Where to log in again after a drop: the tenant Service. */
    private readonly reconnectHost: string,
    private readonly peerJid: string,
  ) {}

  async start(): Promise<void> {
    await this.connect(this.login.host);
  }

  /** Queues one numbered message every `intervalMs` until settle() or stop(). */
  talk(intervalMs: number): void {
    this.timer = setInterval(() => {
      if (this.stopped) return;
      this.queue.push(`${this.name} #${++this.counter}`);
      void this.flush();
    }, intervalMs);
  }

  get sent(): number {
    return this.counter;
  }

  /** Stops talking and waits until the server acknowledged everything (or the time is up). */
  async settle(timeoutMs = 30_000): Promise<void> {
    clearInterval(this.timer);
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 && Date.now() < deadline) {
      if (this.session && this.enabled) await this.session.client.send(xml("r", { xmlns: NS_SM })).catch(() => {});
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  async stop(): Promise<ChatterReport> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.connecting?.catch(() => {});
    await this.session?.stop();
    return this.report;
  }

  /** Sends, in order, what the current stream has not carried yet; one flush at a time keeps the order. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.session && this.enabled && this.sentOnStream < this.queue.length) {
        const body = this.queue[this.sentOnStream++]!;
        if (this.sentEver.has(body)) this.report.resent.add(body);
        this.sentEver.add(body);
        try {
          await this.session.client.send(xml("message", { to: this.peerJid, type: "chat" }, xml("body", {}, body)));
          await this.session.client.send(xml("r", { xmlns: NS_SM }));
        } catch {
          // The stream is going away: the message stays queued and goes again on the next stream.
          return;
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private onNonza(element: Element): void {
    if (element.is("enabled", NS_SM)) {
      this.enabled = true;
      this.inbound = 0;
      void this.flush();
    } else if (element.is("r", NS_SM)) {
      void this.session?.client.send(xml("a", { xmlns: NS_SM, h: String(this.inbound) })).catch(() => {});
    } else if (element.is("a", NS_SM)) {
      const h = Number(element.attrs["h"]);
      while (this.ackedOnStream < h && this.sentOnStream > 0) {
        this.report.acked.add(this.queue.shift()!);
        this.sentOnStream--;
        this.ackedOnStream++;
      }
    }
  }

  private onStanza(stanza: Element): void {
    if (this.enabled) this.inbound++;
    const body = stanza.is("message") ? stanza.getChildText("body") : null;
    if (body) this.report.received.set(body, (this.report.received.get(body) ?? 0) + 1);
  }

  private connect(host: string): Promise<void> {
    const attempt = async (): Promise<void> => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        try {
          const session = await loginXmpp({
            ...this.login,
            host,
            resource: this.name,
            // Listening before the initial presence: offline messages come right after it.
            beforePresence: (client) => {
              client.on("nonza", (el: Element) => this.onNonza(el));
              client.on("stanza", (el: Element) => this.onStanza(el));
            },
          });
          // A new stream: nothing sent or acknowledged on it yet; what the old one did not get acknowledged goes again.
          this.enabled = false;
          this.sentOnStream = 0;
          this.ackedOnStream = 0;
          this.session = session;
          void session.ended.then(() => this.onDropped(session));
          await session.client.send(xml("enable", { xmlns: NS_SM }));
          return;
        } catch (error) {
          if (this.stopped || Date.now() > deadline) throw error;
          host = this.reconnectHost;
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    };
    this.connecting = attempt().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private onDropped(session: XmppSession): void {
    if (this.stopped || session !== this.session) return;
    this.session = undefined;
    this.enabled = false;
    this.report.reconnects++;
    this.connect(this.reconnectHost).catch((error: Error) => this.errors.push(`${this.name} could not reconnect: ${error.message}`));
  }
}
