import net from 'node:net';
import tls from 'node:tls';

// Raw XMPP over a socket, for what a well-behaved client library never does: log in without TLS,
// negotiate TLS 1.0, ask for anonymous login or in-band registration. The tests send the exact bytes
// an attacker or an old client would and read what the server answers.

export class XmppWire {
  private buffer = '';
  private closedFlag = false;
  private waiters: Array<() => void> = [];

  private constructor(private socket: net.Socket | tls.TLSSocket) {
    this.attach(socket);
  }

  static async plain(host: string, port: number): Promise<XmppWire> {
    const socket = net.connect({ host, port });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new XmppWire(socket);
  }

  /** Direct TLS (port 5223 or HTTPS) with the given TLS options; rejects if the handshake fails. */
  static async tls(host: string, port: number, options: tls.ConnectionOptions): Promise<XmppWire> {
    const socket = tls.connect({ host, port, ...options });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    return new XmppWire(socket);
  }

  private attach(socket: net.Socket): void {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.wake();
    });
    socket.on('close', () => {
      this.closedFlag = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  get received(): string {
    return this.buffer;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** The TLS session once TLS is up (direct or after STARTTLS). */
  get tlsSocket(): tls.TLSSocket | undefined {
    return this.socket instanceof tls.TLSSocket ? this.socket : undefined;
  }

  get protocol(): string | null {
    return this.socket instanceof tls.TLSSocket ? this.socket.getProtocol() : null;
  }

  send(data: string): void {
    this.socket.write(data);
  }

  openStream(domain: string): void {
    this.send(`<?xml version='1.0'?><stream:stream to='${domain}' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`);
  }

  /** Waits until the text received since `from` matches, or the connection closes, or time runs out. */
  async waitFor(pattern: RegExp, timeoutMs = 10_000, from = 0): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.buffer.slice(from).match(pattern);
      if (m) return m;
      if (this.closedFlag) throw new Error(`connection closed before ${pattern} arrived; received: ${this.buffer}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${pattern} did not arrive in time; received: ${this.buffer}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Sends, then waits for a match in what arrives after the send. */
  async exchange(data: string, pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray> {
    const from = this.buffer.length;
    this.send(data);
    return this.waitFor(pattern, timeoutMs, from);
  }

  /** STARTTLS on this connection with the given TLS options; rejects if the handshake fails. */
  async startTls(domain: string, options: tls.ConnectionOptions): Promise<void> {
    await this.exchange(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`, /<proceed[^>]*\/>/);
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    const secured = tls.connect({ socket: this.socket, servername: domain, ...options });
    await new Promise<void>((resolve, reject) => secured.once('secureConnect', resolve).once('error', reject));
    this.buffer = '';
    this.socket = secured;
    this.attach(secured);
  }

  close(): void {
    this.socket.destroy();
  }
}
