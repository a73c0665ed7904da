/**
 * A steady conversation between two XMPP sessions, with what the server said about each message.
 * ejabberd (mod_mam) stamps a message it archived for the recipient with a XEP-0359
 * <stanza-id by="recipient's bare JID"/> whose id is the archive row's timestamp, before delivering
 * it. In ejabberd 23.01 (and its current mod_mam) the stamp follows the attempt, not its result:
 * store_mam_message drops what the INSERT returned. So a stamp is the server's acknowledgement, but
 * not proof of a row; the failover test checks the archive itself.
 */
import xml, { type Element } from "@xmpp/xml";
import type { XmppSession } from "../../workload/support/ejabberd-client.js";

const NS_SID = "urn:xmpp:sid:0";

export interface SentMessage {
  readonly text: string;
  readonly sentAt: number;
  deliveredAt?: number;
  /** The archive id ejabberd stamped (its timestamp in microseconds), from the stanza-id. */
  stanzaId?: string;
}

export interface Conversation {
  readonly messages: readonly SentMessage[];
  /** Stops sending; resolves once every message arrived or `drainMs` passed. */
  stop(drainMs: number): Promise<void>;
}

export function startConversation(from: XmppSession, to: XmppSession, prefix: string, intervalMs: number): Conversation {
  const messages: SentMessage[] = [];
  const byText = new Map<string, SentMessage>();
  const recipient = to.jid.replace(/\/.*/, "");
  const listener = (stanza: Element): void => {
    if (!stanza.is("message")) return;
    const sent = byText.get(stanza.getChildText("body") ?? "");
    if (!sent || sent.deliveredAt !== undefined) return;
    sent.deliveredAt = Date.now();
    const stamp = stanza.getChildren("stanza-id", NS_SID).find((s) => s.attrs["by"] === recipient);
    if (stamp) sent.stanzaId = String(stamp.attrs["id"]);
  };
  to.client.on("stanza", listener);
  let sending = true;
  const loop = (async () => {
    for (let i = 0; sending; i += 1) {
      const message: SentMessage = { text: `${prefix} ${String(i).padStart(5, "0")}`, sentAt: Date.now() };
      messages.push(message);
      byText.set(message.text, message);
      await from.send(xml("message", { to: recipient, type: "chat", id: `m${i}` }, xml("body", {}, message.text)));
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    messages,
    async stop(drainMs) {
      sending = false;
      await loop;
      const deadline = Date.now() + drainMs;
      while (Date.now() < deadline && messages.some((m) => m.deliveredAt === undefined)) await new Promise((resolve) => setTimeout(resolve, 250));
      to.client.off("stanza", listener);
    },
  };
}

export interface RecoveryFigures {
  /** From the kill to the first stamped message after the longest pause in stamping (ms). */
  readonly rtoMs: number;
  /** The longest pause between two stamped messages after the kill (ms). */
  readonly longestPauseMs: number;
  readonly sent: number;
  readonly delivered: number;
  readonly acknowledged: number;
  readonly deliveredNotArchived: number;
  readonly notDelivered: number;
}

/** Figures from the messages' timestamps, taken on this machine's clock like the kill. */
export function recoveryFigures(messages: readonly SentMessage[], killedAt: number): RecoveryFigures {
  const acks = messages.filter((m) => m.stanzaId !== undefined && m.deliveredAt! >= killedAt).map((m) => m.deliveredAt!).sort((a, b) => a - b);
  let previous = killedAt;
  let longestPauseMs = 0;
  let resumedAt = acks[0] ?? Number.NaN;
  for (const at of acks) {
    if (at - previous > longestPauseMs) {
      longestPauseMs = at - previous;
      resumedAt = at;
    }
    previous = at;
  }
  const delivered = messages.filter((m) => m.deliveredAt !== undefined);
  return {
    rtoMs: resumedAt - killedAt,
    longestPauseMs,
    sent: messages.length,
    delivered: delivered.length,
    acknowledged: messages.filter((m) => m.stanzaId !== undefined).length,
    deliveredNotArchived: delivered.filter((m) => m.stanzaId === undefined).length,
    notDelivered: messages.length - delivered.length,
  };
}
