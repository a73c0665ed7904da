// xmpp.js ships no type declarations. The workload tests use a few of its packages (the same ones
// @xmpp/client composes) through the narrow surface declared here.

declare module '@xmpp/xml' {
  export interface Element {
    name: string;
    attrs: Record<string, string | undefined>;
    children: Array<Element | string>;
    is(name: string, xmlns?: string): boolean;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildText(name: string, xmlns?: string): string | null;
    getChildElements(): Element[];
    text(): string;
    getNS(): string;
    toString(): string;
  }
  type Child = Element | string | undefined | false | null;
  function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: Child[]): Element;
  export default xml;
}

declare module '@xmpp/client-core' {
  import type { Element } from '@xmpp/xml';
  export class Client {
    constructor(options: { service: string; domain: string; credentials?: unknown });
    options: { domain: string; service: string };
    socket: unknown;
    jid: { toString(): string } | null;
    status: string;
    start(): Promise<unknown>;
    stop(): Promise<void>;
    send(element: Element): Promise<void>;
    sendReceive(element: Element): Promise<Element>;
    restart(): Promise<void>;
    isSecure(): boolean;
    _attachSocket(socket: unknown): void;
    on(event: 'stanza' | 'nonza' | 'element', listener: (element: Element) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
    on(event: 'status', listener: (status: string, value?: unknown) => void): this;
    on(event: 'disconnect' | 'close' | 'offline', listener: (...args: unknown[]) => void): this;
    once(event: string, listener: (...args: unknown[]) => void): this;
    off(event: string, listener: (...args: never[]) => void): this;
  }
}

declare module '@xmpp/tcp' {
  export default function tcp(options: { entity: unknown }): unknown;
}
declare module '@xmpp/middleware' {
  export default function middleware(options: { entity: unknown }): unknown;
}
declare module '@xmpp/stream-features' {
  import type { Element } from '@xmpp/xml';
  export interface StreamFeatures {
    use(name: string, xmlns: string, handler: (ctx: { entity: any }, next: () => Promise<void>, feature: Element) => Promise<void>): void;
  }
  export default function streamFeatures(options: { middleware: unknown }): StreamFeatures;
}
declare module '@xmpp/iq/caller.js' {
  import type { Element } from '@xmpp/xml';
  export interface IqCaller {
    request(iq: Element, timeout?: number): Promise<Element>;
    get(child: Element, to?: string, timeout?: number): Promise<Element>;
    set(child: Element, to?: string, timeout?: number): Promise<Element>;
  }
  export default function iqCaller(options: { middleware: unknown; entity: unknown }): IqCaller;
}
declare module '@xmpp/iq/callee.js' {
  export default function iqCallee(options: { middleware: unknown; entity: unknown }): { get(ns: string, name: string, handler: () => unknown): void };
}
declare module '@xmpp/sasl' {
  export default function sasl(options: { streamFeatures: unknown; saslFactory: unknown }, onAuthenticate: (...args: any[]) => Promise<void>): void;
}
declare module '@xmpp/resource-binding' {
  export default function resourceBinding(options: { streamFeatures: unknown; iqCaller: unknown }, resource?: string): void;
}
declare module '@xmpp/sasl-plain' {
  export default function plain(factory: unknown): void;
}
declare module '@xmpp/starttls/starttls.js' {
  export function upgrade(socket: unknown, options: Record<string, unknown>): Promise<unknown>;
  export function canUpgrade(socket: unknown): boolean;
}
declare module 'saslmechanisms' {
  export default class SASLFactory {
    use(mechanism: unknown): this;
    create(names: string[]): unknown;
  }
}
