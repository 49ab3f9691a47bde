/**
 * The egress guard (OWASP API7, server-side request forgery): the one way processors reach out over HTTP. A stored
 * flow chooses the URL, so without it a flow could make a worker call internal services (Temporal's UI on loopback,
 * the cloud metadata endpoint, a database admin page on the private network).
 *
 * - Every destination address is checked where the connection is made: the guard's dispatcher resolves the name
 *   itself, refuses the connection if any answer is internal, and connects to exactly the addresses it checked, so a
 *   second DNS answer (rebinding) never reaches the socket. IP literals (which never go through DNS) are checked in
 *   the same place before connecting.
 * - Internal = anything ipaddr.js does not classify as `unicast`: loopback, unspecified, private, unique-local,
 *   link-local (cloud metadata), carrier-grade NAT, multicast, broadcast, reserved, benchmarking, documentation, …
 * - Redirects are followed here, each hop checked again.
 * - The allow-list opens internal destinations on purpose: a `host` / `host:port` entry by the URL's host name, a
 *   CIDR by the address. Public destinations need no entry.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import net, { type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { NonRetryableError } from './errors';

/** One allow-list entry: a host name (optionally with a port) or an address range. */
export type AllowEntry =
  | {
      kind: 'host';
      /** As the WHATWG URL parser writes it: lower case, punycode, IPv4 normalised, IPv6 in brackets. */
      hostname: string;
      /** Unset: any port. */
      port?: number;
    }
  | { kind: 'cidr'; address: string; prefixLength: number };

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (as `dns.lookup(name, { all: true })`). */
export type EgressLookup = (hostname: string) => Promise<ResolvedAddress[]>;

export interface EgressGuardOptions {
  /** Internal destinations allowed anyway (see {@link parseEgressAllowList}). Default: none. */
  allow?: AllowEntry[];
  /** The largest response body read, in bytes. Default 10 MiB. */
  maxResponseBytes?: number;
  /** Default: the system resolver (`dns.lookup` with `all: true`). Tests inject their own names. */
  lookup?: EgressLookup;
  /** Redirects followed per request. Default 5. */
  maxRedirects?: number;
}

export interface EgressRequestInit {
  /** Default GET. */
  method?: string;
  headers?: Headers | Record<string, string> | Array<[string, string]>;
  body?: string | Uint8Array;
  signal?: AbortSignal;
  /** Limits the whole exchange (every redirect and the body); on expiry the call rejects with a `TimeoutError`. */
  timeoutMs?: number;
}

/** A response whose body has been read in full (within the size limit). */
export interface EgressResponse {
  status: number;
  statusText: string;
  headers: Headers;
  /** The URL that answered (after redirects), without credentials. */
  url: string;
  text: string;
}

/** The failure type of a refused destination (non-retryable). */
export const EGRESS_DENIED = 'EgressDenied';
/** The failure type of a response larger than `maxResponseBytes` (non-retryable). */
export const RESPONSE_TOO_LARGE = 'ResponseTooLarge';

const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
const DEFAULT_MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const BODY_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-location',
];
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie'];

type Address = ipaddr.IPv4 | ipaddr.IPv6;

function defaultPort(protocol: string): number {
  return protocol === 'https:' ? 443 : 80;
}

function entryError(entry: string, why: string): Error {
  return new Error(
    `egress allow-list entry "${entry}" is not valid: ${why} (expected host, host:port, [v6]:port or a CIDR such as 10.0.0.0/8)`,
  );
}

function parseEntry(entry: string): AllowEntry {
  if (entry.includes('/')) {
    if (!ipaddr.isValidCIDR(entry)) throw entryError(entry, 'not an IPv4 or IPv6 CIDR');
    if (ipaddr.IPv4.isValidCIDR(entry) && !ipaddr.IPv4.isValidCIDRFourPartDecimal(entry))
      throw entryError(entry, 'write an IPv4 range with four decimal parts');
    const [address, prefixLength] = ipaddr.parseCIDR(entry);
    return { kind: 'cidr', address: address.toString(), prefixLength };
  }
  // A bare IPv6 address has colons of its own: it can carry no port.
  const parts = net.isIPv6(entry)
    ? [entry, `[${entry}]`]
    : /^(\[[^\]]*\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(entry);
  if (!parts) throw entryError(entry, 'not a host, host:port or CIDR');
  const [, host = '', portText] = parts;
  if (host.startsWith('[') ? !net.isIPv6(host.slice(1, -1)) : !/^[\p{L}\p{N}_.-]+$/u.test(host))
    throw entryError(entry, `"${host}" is not a host name or IP address`);
  let hostname: string;
  try {
    hostname = new URL(`http://${host}/`).hostname;
  } catch {
    throw entryError(entry, `"${host}" is not a host name or IP address`);
  }
  if (portText === undefined) return { kind: 'host', hostname };
  const port = Number(portText);
  if (port < 1 || port > 65_535) throw entryError(entry, `port ${portText} is out of range`);
  return { kind: 'host', hostname, port };
}

/**
 * Parses an allow-list: comma-separated `host`, `host:port`, `[v6]:port` or IPv4/IPv6 CIDR entries
 * (`api.internal, 127.0.0.1:9000, 10.0.0.0/8, ::1/128`); whitespace and empty entries are ignored. A `host` entry
 * matches URLs naming that host (whatever it resolves to); to allow an address whatever name reaches it, use a CIDR
 * (`127.0.0.1/32`).
 *
 * @throws Error naming the first entry that is none of these.
 */
export function parseEgressAllowList(text: string): AllowEntry[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map(parseEntry);
}

/** An entry as it is written in an allow-list. */
export function formatAllowEntry(entry: AllowEntry): string {
  if (entry.kind === 'cidr') return `${entry.address}/${entry.prefixLength}`;
  return entry.port === undefined ? entry.hostname : `${entry.hostname}:${entry.port}`;
}

export interface AddressClassification {
  /** ipaddr.js's range name (`unicast`, `loopback`, `private`, `linkLocal`, …); for an address embedding IPv4, the IPv4 address's. */
  range: string;
  /** Not a public unicast address: refused unless allowed. */
  internal: boolean;
  /** The IPv4 address an IPv6 address embeds, when that is what it was judged by. */
  embeddedIpv4?: string;
}

function ipv4From(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

/** The IPv4 address an IPv6 address stands for, or the reason it is refused outright. */
function embeddedIpv4(address: ipaddr.IPv6, range: string): ipaddr.IPv4 | undefined {
  const [, second = 0, third = 0, , , , seventh = 0, eighth = 0] = address.parts;
  switch (range) {
    case 'ipv4Mapped': // ::ffff:a.b.c.d — a dual-stack socket connects to a.b.c.d itself
    case 'rfc6145': // ::ffff:0:a.b.c.d — IPv4-translated
      return ipv4From(seventh, eighth);
    case 'rfc6052': // 64:ff9b::a.b.c.d — the NAT64 gateway connects to a.b.c.d
      // The local-use prefix 64:ff9b:1::/48 (RFC 8215) embeds the address where its operator chose: refused outright.
      return address.match(NAT64_WELL_KNOWN) ? ipv4From(seventh, eighth) : undefined;
    case '6to4': // 2002:AABB:CCDD::/48 — relayed to a.b.c.d
      return ipv4From(second, third);
    default:
      // Teredo (2001::/32) hides the client address XOR-ed and is a tunnel endpoint: refused outright, as is every
      // other special range.
      return undefined;
  }
}

function classify(address: Address): AddressClassification {
  if (address.kind() === 'ipv4') {
    const range = address.range();
    return { range, internal: range !== 'unicast' };
  }
  const v6 = address as ipaddr.IPv6;
  const range = v6.range();
  // ::a.b.c.d (IPv4-compatible, deprecated) is "unicast" to ipaddr.js; refused outright (`::` and `::1` have their
  // own ranges).
  if (range === 'unicast')
    return v6.match(IPV4_COMPATIBLE)
      ? { range: 'ipv4Compatible', internal: true }
      : { range, internal: false };
  const v4 = embeddedIpv4(v6, range);
  if (!v4) return { range, internal: true };
  const embedded = v4.range();
  return { range: embedded, internal: embedded !== 'unicast', embeddedIpv4: v4.toString() };
}

/**
 * How the guard judges an address: `internal` unless it is public unicast; an IPv6 address embedding an IPv4 one
 * (IPv4-mapped, IPv4-translated, NAT64 `64:ff9b::/96`, 6to4) is judged by that IPv4 address; Teredo, NAT64
 * local-use and IPv4-compatible addresses are internal outright.
 *
 * @throws Error when `address` is not an IP address.
 */
export function classifyAddress(address: string): AddressClassification {
  return classify(ipaddr.parse(address));
}

const RANGE_LABELS: Record<string, string> = {
  linkLocal: 'link-local',
  carrierGradeNat: 'carrier-grade NAT',
  uniqueLocal: 'unique-local',
  ipv4Compatible: 'IPv4-compatible',
  rfc6052: 'NAT64 local-use',
};

/** The URL's scheme, host and port: what messages may show (never credentials, path or query). */
function describeOrigin(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

interface Destination {
  /** The URL's scheme, host and port (host as the URL writes it: IPv6 in brackets). */
  url: URL;
  port: number;
}

function destinationOf(url: URL): Destination {
  return { url, port: Number(url.port) || defaultPort(url.protocol) };
}

function unwrapDenial(error: unknown): NonRetryableError | undefined {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++)
    if (cause instanceof NonRetryableError && cause.type === EGRESS_DENIED) return cause;
  return undefined;
}

/**
 * HTTP for processors with internal destinations refused (see the file comment). One guard per worker; it keeps a
 * connection pool, so reuse it.
 */
export class EgressGuard {
  readonly allow: readonly AllowEntry[];
  readonly maxResponseBytes: number;
  readonly maxRedirects: number;
  readonly #lookup: EgressLookup;
  readonly #allowedNetworks: Array<[Address, number]>;
  readonly #dispatcher: Agent;

  /** @throws Error for a non-positive limit or an invalid CIDR entry. */
  constructor(options: EgressGuardOptions = {}) {
    this.allow = Object.freeze([...(options.allow ?? [])]);
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
    if (!(Number.isInteger(this.maxResponseBytes) && this.maxResponseBytes > 0))
      throw new Error('maxResponseBytes must be a positive integer');
    if (!(Number.isInteger(this.maxRedirects) && this.maxRedirects >= 0))
      throw new Error('maxRedirects must be a non-negative integer');
    this.#lookup =
      options.lookup ??
      (async (hostname) =>
        (await dnsLookup(hostname, { all: true })).map(({ address, family }) => ({
          address,
          family: family === 6 ? 6 : 4,
        })));
    this.#allowedNetworks = this.allow.flatMap((entry) =>
      entry.kind === 'cidr' ? [[ipaddr.parse(entry.address), entry.prefixLength] as [Address, number]] : [],
    );
    this.#dispatcher = new Agent({ connect: (options, callback) => this.#connect(options, callback) });
  }

  /**
   * Fetches `url` (http or https only), following up to `maxRedirects` redirects, and reads the whole body.
   * Redirects: 303 (and 301/302 after a POST) continue as a GET without the body; a redirect to another origin drops
   * `authorization` and `cookie` headers. Credentials in the URL are sent as Basic authorization on its own origin.
   *
   * @throws NonRetryableError of type `EgressDenied` for a refused destination (any hop), `ResponseTooLarge` for a
   *   body over `maxResponseBytes`, `TooManyRedirects` / `InvalidRedirect` for a redirect it cannot follow.
   * @throws the abort reason when `signal` fires or `timeoutMs` passes (a `TimeoutError` DOMException then).
   * @throws TypeError (`fetch failed`, with the network error as `cause`) when the destination cannot be reached.
   */
  async fetch(url: string | URL, init: EgressRequestInit = {}): Promise<EgressResponse> {
    const signals = [
      init.signal,
      init.timeoutMs === undefined ? undefined : AbortSignal.timeout(init.timeoutMs),
    ];
    const present = signals.filter((signal): signal is AbortSignal => signal !== undefined);
    const signal = present.length === 0 ? undefined : AbortSignal.any(present);
    const headers = new Headers(init.headers);
    let current = new URL(url);
    let method = (init.method ?? 'GET').toUpperCase();
    let body = init.body;
    if (current.username || current.password) {
      if (!headers.has('authorization')) {
        const user = `${decodeURIComponent(current.username)}:${decodeURIComponent(current.password)}`;
        headers.set('authorization', `Basic ${Buffer.from(user).toString('base64')}`);
      }
      current.username = '';
      current.password = '';
    }
    try {
      for (let followed = 0; ; followed++) {
        if (current.protocol !== 'http:' && current.protocol !== 'https:')
          throw new NonRetryableError(
            `Egress denied: only http and https destinations are allowed, not ${current.protocol}`,
            { type: EGRESS_DENIED, details: { host: current.host, address: null, range: null } },
          );
        const response = await undiciFetch(current, {
          method,
          headers: [...headers],
          body,
          redirect: 'manual',
          signal,
          dispatcher: this.#dispatcher,
        });
        const location = REDIRECT_STATUSES.has(response.status) ? response.headers.get('location') : null;
        if (location === null) {
          const text = await this.#readBody(current, response.headers.get('content-length'), response.body);
          return {
            status: response.status,
            statusText: response.statusText,
            headers: new Headers([...response.headers]),
            url: current.href,
            text,
          };
        }
        await response.body?.cancel().catch(() => undefined);
        if (followed >= this.maxRedirects)
          throw new NonRetryableError(
            `${describeOrigin(current)} redirected more than ${this.maxRedirects} times`,
            { type: 'TooManyRedirects', details: { maxRedirects: this.maxRedirects } },
          );
        let next: URL;
        try {
          next = new URL(location, current);
        } catch {
          throw new NonRetryableError(`${describeOrigin(current)} redirected to an invalid URL`, {
            type: 'InvalidRedirect',
          });
        }
        const status = response.status;
        if (
          (status === 303 && method !== 'HEAD') ||
          ((status === 301 || status === 302) && method === 'POST')
        ) {
          method = 'GET';
          body = undefined;
          for (const name of BODY_HEADERS) headers.delete(name);
        }
        if (next.origin !== current.origin) for (const name of CREDENTIAL_HEADERS) headers.delete(name);
        next.username = '';
        next.password = '';
        current = next;
      }
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw unwrapDenial(error) ?? error;
    }
  }

  /** Drops the pooled connections, aborting any request still running (a worker that has drained). */
  async close(): Promise<void> {
    await this.#dispatcher.destroy();
  }

  async #readBody(
    url: URL,
    contentLength: string | null,
    body: ReadableStream<Uint8Array> | null,
  ): Promise<string> {
    const tooLarge = () =>
      new NonRetryableError(
        `the response of ${describeOrigin(url)} is larger than the limit of ${this.maxResponseBytes} bytes`,
        { type: RESPONSE_TOO_LARGE, details: { limitBytes: this.maxResponseBytes } },
      );
    if (!body) return '';
    if (contentLength !== null && Number(contentLength) > this.maxResponseBytes) {
      await body.cancel().catch(() => undefined);
      throw tooLarge();
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > this.maxResponseBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
    return new TextDecoder().decode(Buffer.concat(chunks));
  }

  /** undici's connector, behind the checks: IP literals are judged here, names by the pinned lookup. */
  #connect(options: buildConnector.Options, callback: buildConnector.Callback): void {
    const url = new URL(`${options.protocol}//${options.host ?? options.hostname}`);
    const destination = destinationOf(url);
    if (net.isIP(options.hostname)) {
      const denial = this.#judge(destination, options.hostname, false);
      if (denial) return callback(denial, null);
    }
    // Node calls `lookup` only for names; for a literal it connects to the address just judged.
    buildConnector({ lookup: this.#pinnedLookup(destination) })(options, callback);
  }

  /**
   * A `lookup` for one connection: resolves once, refuses the connection if any address is internal (and not
   * allowed), and hands the socket exactly the addresses it checked.
   */
  #pinnedLookup(destination: Destination): LookupFunction {
    return (hostname, options, callback) => {
      const wanted =
        options.family === 4 || options.family === 'IPv4'
          ? 4
          : options.family === 6 || options.family === 'IPv6'
            ? 6
            : 0;
      Promise.resolve(hostname)
        .then((name) => this.#lookup(name))
        .then(
          (resolved) => {
            const addresses = resolved.filter(({ family }) => wanted === 0 || family === wanted);
            const first = addresses[0];
            if (!first) {
              const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
              error.code = 'ENOTFOUND';
              return callback(error, '', 0);
            }
            for (const { address } of addresses) {
              const denial = this.#judge(destination, address, true);
              if (denial) return callback(denial, '', 0);
            }
            if (options.all) callback(null, addresses);
            else callback(null, first.address, first.family);
          },
          (error: NodeJS.ErrnoException) => callback(error, '', 0),
        );
    };
  }

  #hostAllowed({ url, port }: Destination): boolean {
    return this.allow.some(
      (entry) =>
        entry.kind === 'host' &&
        entry.hostname === url.hostname &&
        (entry.port === undefined || entry.port === port),
    );
  }

  #networkAllowed(address: Address, embeddedIpv4: string | undefined): boolean {
    const candidates: Address[] = [address];
    if (embeddedIpv4) candidates.push(ipaddr.parse(embeddedIpv4));
    return this.#allowedNetworks.some(([network, bits]) =>
      candidates.some((candidate) => candidate.kind() === network.kind() && candidate.match(network, bits)),
    );
  }

  /** The denial for connecting to `address` for `destination`, or undefined when it is allowed. */
  #judge(destination: Destination, address: string, resolved: boolean): NonRetryableError | undefined {
    if (this.#hostAllowed(destination)) return undefined;
    let parsed: Address;
    try {
      parsed = ipaddr.parse(address);
    } catch {
      return this.#denial(destination, address, { range: 'invalid', internal: true }, resolved);
    }
    const classification = classify(parsed);
    if (!classification.internal) return undefined;
    if (this.#networkAllowed(parsed, classification.embeddedIpv4)) return undefined;
    return this.#denial(destination, parsed.toString(), classification, resolved);
  }

  #denial(
    { url }: Destination,
    address: string,
    { range, embeddedIpv4: v4 }: AddressClassification,
    resolved: boolean,
  ): NonRetryableError {
    const label = RANGE_LABELS[range] ?? range;
    const why = v4 === undefined ? label : `${label}: embeds ${v4}`;
    const cidr = v4 === undefined ? `${address}/${address.includes(':') ? 128 : 32}` : `${v4}/32`;
    return new NonRetryableError(
      `Egress denied: ${describeOrigin(url)} ${resolved ? 'resolves to' : 'is'} ${address} (${why}), an internal ` +
        `address; allow it with EGRESS_ALLOW=${url.host} or a CIDR such as ${cidr}`,
      { type: EGRESS_DENIED, details: { host: url.host, address, range } },
    );
  }
}
