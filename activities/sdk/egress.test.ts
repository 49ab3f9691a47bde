import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { after, describe, test } from 'node:test';
import {
  classifyAddress,
  EgressGuard,
  type EgressGuardOptions,
  type EgressLookup,
  formatAllowEntry,
  parseEgressAllowList,
} from './egress';
import { NonRetryableError } from './errors';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

interface TestServer {
  port: number;
  seen: Seen[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];
const guards: EgressGuard[] = [];

after(async () => {
  await Promise.all([...servers.map((s) => s.close()), ...guards.map((g) => g.close())]);
});

/** An HTTP server on `host` recording every request it receives. */
async function serve(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  host = '127.0.0.1',
  port = 0,
): Promise<TestServer> {
  const seen: Seen[] = [];
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      handler(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const started: TestServer = {
    port: (server.address() as AddressInfo).port,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  servers.push(started);
  return started;
}

const ok = (_req: IncomingMessage, res: ServerResponse) => res.writeHead(200).end('ok');

function guard(options: EgressGuardOptions = {}): EgressGuard {
  const created = new EgressGuard(options);
  guards.push(created);
  return created;
}

/** A resolver that knows only the given names, counting its calls. */
function names(table: Record<string, string[]>): EgressLookup & { calls: string[] } {
  const calls: string[] = [];
  const lookup = (hostname: string) => {
    calls.push(hostname);
    const addresses = table[hostname];
    if (!addresses)
      return Promise.reject(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    return Promise.resolve(
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }) as const),
    );
  };
  return Object.assign(lookup, { calls });
}

/** Awaits a rejection that must be a NonRetryableError and returns it. */
async function refusal(promise: Promise<unknown>, type: string): Promise<NonRetryableError> {
  const error = await promise.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof NonRetryableError, String(error));
  assert.equal(error.type, type, error.message);
  return error;
}

describe('parseEgressAllowList', () => {
  test('reads hosts, ports, bracketed IPv6 and CIDRs, normalising hosts as URLs do', () => {
    const entries = parseEgressAllowList(
      ' API.Internal , svc:8080,[::1]:9000, ::1 ,127.0.0.1, 10.0.0.0/8, 127.0.0.1/32,fd00::/8,, ',
    );
    assert.deepEqual(entries, [
      { kind: 'host', hostname: 'api.internal' },
      { kind: 'host', hostname: 'svc', port: 8080 },
      { kind: 'host', hostname: '[::1]', port: 9000 },
      { kind: 'host', hostname: '[::1]' },
      { kind: 'host', hostname: '127.0.0.1' },
      { kind: 'cidr', address: '10.0.0.0', prefixLength: 8 },
      { kind: 'cidr', address: '127.0.0.1', prefixLength: 32 },
      { kind: 'cidr', address: 'fd00::', prefixLength: 8 },
    ]);
    assert.deepEqual(entries.map(formatAllowEntry), [
      'api.internal',
      'svc:8080',
      '[::1]:9000',
      '[::1]',
      '127.0.0.1',
      '10.0.0.0/8',
      '127.0.0.1/32',
      'fd00::/8',
    ]);
    assert.deepEqual(parseEgressAllowList(''), []);
    assert.deepEqual(parseEgressAllowList(' , '), []);
  });

  test('names the bad entry', () => {
    for (const [text, bad] of [
      ['ok.test, not a host', 'not a host'],
      ['svc:99999', 'svc:99999'],
      ['svc:0', 'svc:0'],
      ['svc:', 'svc:'],
      ['10.0.0.0/33', '10.0.0.0/33'],
      ['10.0.0.0/8/1', '10.0.0.0/8/1'],
      ['0x7f.0.0.0/8', '0x7f.0.0.0/8'],
      ['[nothost]:80', '[nothost]:80'],
      ['http://svc', 'http://svc'],
      ['user@svc', 'user@svc'],
    ] as const)
      assert.throws(
        () => parseEgressAllowList(text),
        (error: unknown) =>
          error instanceof Error && error.message.startsWith(`egress allow-list entry "${bad}" is not valid`),
        text,
      );
  });
});

describe('classifyAddress', () => {
  test('public unicast is allowed; every special range is internal', () => {
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111'])
      assert.deepEqual(classifyAddress(address), { range: 'unicast', internal: false }, address);
    for (const [address, range] of [
      ['127.0.0.1', 'loopback'],
      ['127.255.0.9', 'loopback'],
      ['0.0.0.0', 'unspecified'],
      ['0.1.2.3', 'unspecified'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'linkLocal'],
      ['100.64.0.1', 'carrierGradeNat'],
      ['224.0.0.1', 'multicast'],
      ['255.255.255.255', 'broadcast'],
      ['192.0.2.1', 'reserved'],
      ['198.18.0.1', 'reserved'],
      ['240.0.0.1', 'reserved'],
      ['::1', 'loopback'],
      ['::', 'unspecified'],
      ['fc00::1', 'uniqueLocal'],
      ['fd12::1', 'uniqueLocal'],
      ['fe80::1', 'linkLocal'],
      ['ff02::1', 'multicast'],
      ['2001:db8::1', 'reserved'],
      ['2001:2::1', 'benchmarking'],
    ] as const)
      assert.deepEqual(classifyAddress(address), { range, internal: true }, address);
  });

  test('IPv6 addresses embedding IPv4 are judged by it; Teredo, NAT64 local-use and IPv4-compatible are refused', () => {
    const judged = (address: string) => {
      const { range, internal, embeddedIpv4 } = classifyAddress(address);
      return [range, internal, embeddedIpv4];
    };
    assert.deepEqual(judged('::ffff:127.0.0.1'), ['loopback', true, '127.0.0.1']);
    assert.deepEqual(judged('::ffff:a9fe:a9fe'), ['linkLocal', true, '169.254.169.254']);
    assert.deepEqual(judged('::ffff:8.8.8.8'), ['unicast', false, '8.8.8.8']);
    assert.deepEqual(judged('::ffff:0:7f00:1'), ['loopback', true, '127.0.0.1']);
    assert.deepEqual(judged('64:ff9b::7f00:1'), ['loopback', true, '127.0.0.1']);
    assert.deepEqual(judged('64:ff9b::a00:1'), ['private', true, '10.0.0.1']);
    assert.deepEqual(judged('64:ff9b::808:808'), ['unicast', false, '8.8.8.8']);
    assert.deepEqual(judged('2002:7f00:1::1'), ['loopback', true, '127.0.0.1']);
    assert.deepEqual(judged('2002:808:808::1'), ['unicast', false, '8.8.8.8']);
    assert.deepEqual(judged('2001:0:4136:e378:8000:63bf:3fff:fdd2'), ['teredo', true, undefined]);
    assert.deepEqual(judged('64:ff9b:1::808:808'), ['rfc6052', true, undefined]);
    assert.deepEqual(judged('::7f00:1'), ['ipv4Compatible', true, undefined]);
  });
});

describe('EgressGuard', () => {
  test('refuses internal IP literals in every spelling before connecting, naming host, address and rule', async () => {
    const server = await serve(ok);
    const port = server.port;
    const denied = guard();
    for (const [url, host, address, range] of [
      [`http://127.0.0.1:${port}/`, `127.0.0.1:${port}`, '127.0.0.1', 'loopback'],
      [`http://127.1:${port}/`, `127.0.0.1:${port}`, '127.0.0.1', 'loopback'],
      [`http://2130706433:${port}/`, `127.0.0.1:${port}`, '127.0.0.1', 'loopback'],
      [`http://0177.0.0.1:${port}/`, `127.0.0.1:${port}`, '127.0.0.1', 'loopback'],
      [`http://0x7f.0.0.1:${port}/`, `127.0.0.1:${port}`, '127.0.0.1', 'loopback'],
      [`http://[::1]:${port}/`, `[::1]:${port}`, '::1', 'loopback'],
      [`http://[::ffff:127.0.0.1]:${port}/`, `[::ffff:7f00:1]:${port}`, '::ffff:7f00:1', 'loopback'],
      [`http://0.0.0.0:${port}/`, `0.0.0.0:${port}`, '0.0.0.0', 'unspecified'],
      [`https://169.254.169.254/latest/meta-data/`, '169.254.169.254', '169.254.169.254', 'linkLocal'],
    ] as const) {
      const error = await refusal(denied.fetch(url), 'EgressDenied');
      assert.deepEqual(error.details, { host, address, range }, url);
      assert.match(
        error.message,
        new RegExp(`^Egress denied: https?://${host.replace(/[[\].]/g, '\\$&')} is `),
      );
      assert.match(error.message, /allow it with EGRESS_ALLOW=/);
    }
    assert.equal(server.seen.length, 0, 'no request reached the server');
  });

  test('a name resolving to an internal address is refused; a host entry, host:port entry or CIDR allows it', async () => {
    const server = await serve(ok);
    const lookup = names({ 'evil.test': ['127.0.0.1'] });
    const url = `http://evil.test:${server.port}/path?token=secret`;

    const error = await refusal(guard({ lookup }).fetch(url), 'EgressDenied');
    assert.equal(
      error.message,
      `Egress denied: http://evil.test:${server.port} resolves to 127.0.0.1 (loopback), an internal address; ` +
        `allow it with EGRESS_ALLOW=evil.test:${server.port} or a CIDR such as 127.0.0.1/32`,
    );
    assert.deepEqual(error.details, {
      host: `evil.test:${server.port}`,
      address: '127.0.0.1',
      range: 'loopback',
    });
    assert.equal(server.seen.length, 0);

    for (const allow of ['evil.test', `EVIL.test:${server.port}`, '127.0.0.0/8', '127.0.0.1/32']) {
      const response = await guard({ lookup, allow: parseEgressAllowList(allow) }).fetch(url);
      assert.deepEqual([response.status, response.text], [200, 'ok'], allow);
    }
    assert.equal(server.seen.length, 4);

    // A port entry allows that port only; a CIDR elsewhere allows nothing here.
    for (const allow of [`evil.test:${server.port + 1}`, 'other.test', '10.0.0.0/8', '::1/128'])
      await refusal(guard({ lookup, allow: parseEgressAllowList(allow) }).fetch(url), 'EgressDenied');
    assert.equal(server.seen.length, 4);
  });

  test('a name is refused when any of its addresses is internal', async () => {
    const server = await serve(ok);
    const lookup = names({ 'mixed.test': ['93.184.216.34', '127.0.0.1'] });
    const error = await refusal(guard({ lookup }).fetch(`http://mixed.test:${server.port}/`), 'EgressDenied');
    assert.equal((error.details as { address: string }).address, '127.0.0.1');
    assert.equal(server.seen.length, 0);
  });

  test('the connection goes to the address that was checked: one resolution, no second answer (rebinding)', async () => {
    const checked = await serve(ok, '127.0.0.1');
    const rebound = await serve(ok, '127.0.0.2', checked.port);
    let answers = 0;
    const lookup: EgressLookup = (hostname) => {
      assert.equal(hostname, 'rebind.test');
      answers += 1;
      return Promise.resolve([{ address: answers === 1 ? '127.0.0.1' : '127.0.0.2', family: 4 }]);
    };
    const response = await guard({ lookup, allow: parseEgressAllowList('127.0.0.1/32') }).fetch(
      `http://rebind.test:${checked.port}/`,
    );
    assert.equal(response.text, 'ok');
    assert.equal(answers, 1);
    assert.equal(checked.seen.length, 1);
    assert.equal(rebound.seen.length, 0);
  });

  test('the Host header and the TLS server name are the original host name, not the pinned address', async () => {
    const server = await serve(ok);
    const lookup = names({ 'svc.test': ['127.0.0.1'], 'tls.test': ['127.0.0.1'] });
    const allowed = guard({ lookup, allow: parseEgressAllowList('127.0.0.1/32') });
    await allowed.fetch(`http://svc.test:${server.port}/`);
    assert.equal(server.seen[0]?.headers.host, `svc.test:${server.port}`);

    // A TCP server reading the TLS ClientHello's server_name extension, then hanging up.
    let serverName: string | undefined;
    const tls = createTcpServer((socket) => {
      let hello = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        hello = Buffer.concat([hello, chunk]);
        if (hello.length < 5 || hello.length < 5 + hello.readUInt16BE(3)) return;
        serverName = sniOf(hello);
        socket.destroy();
      });
    });
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    try {
      const port = (tls.address() as AddressInfo).port;
      await assert.rejects(allowed.fetch(`https://tls.test:${port}/`), TypeError);
      assert.equal(serverName, 'tls.test');
    } finally {
      await new Promise((resolve) => tls.close(resolve));
    }
  });

  test('follows redirects, re-checking every hop; 303 continues as GET; relative locations resolve', async () => {
    const target = await serve((req, res) => res.writeHead(200).end(`${req.method} ${req.url}`));
    const start = await serve((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/see-other') res.writeHead(303, { location: '/landed' }).end();
      else if (path === '/temporary')
        res.writeHead(307, { location: `http://127.0.0.1:${target.port}/kept` }).end();
      else if (path === '/landed') res.writeHead(200).end(`${req.method} landed`);
      else res.writeHead(404).end();
    });
    const allowed = guard({ allow: parseEgressAllowList('127.0.0.1') });

    const seeOther = await allowed.fetch(`http://127.0.0.1:${start.port}/see-other`, {
      method: 'POST',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json' },
    });
    assert.deepEqual([seeOther.status, seeOther.text], [200, 'GET landed']);
    assert.equal(seeOther.url, `http://127.0.0.1:${start.port}/landed`);
    assert.equal(start.seen.at(-1)?.body, '');
    assert.equal(start.seen.at(-1)?.headers['content-type'], undefined);

    const temporary = await allowed.fetch(`http://127.0.0.1:${start.port}/temporary`, {
      method: 'PUT',
      body: 'payload',
    });
    assert.deepEqual([temporary.status, temporary.text], [200, 'PUT /kept']);
    assert.equal(target.seen.at(-1)?.body, 'payload');
  });

  test('a redirect from an allowed destination to an internal one is refused before connecting', async () => {
    const blocked = await serve(ok);
    const redirecting = await serve((req, res) => {
      const to =
        req.url === '/to-localhost'
          ? `http://localhost:${blocked.port}/`
          : `http://127.0.0.2:${blocked.port}/`;
      res.writeHead(302, { location: to }).end();
    });
    const allowed = guard({
      allow: parseEgressAllowList(`127.0.0.1:${redirecting.port}`),
      lookup: names({ localhost: ['127.0.0.1', '::1'] }),
    });
    const viaName = await refusal(
      allowed.fetch(`http://127.0.0.1:${redirecting.port}/to-localhost`),
      'EgressDenied',
    );
    assert.match(
      viaName.message,
      new RegExp(
        `^Egress denied: http://localhost:${blocked.port} resolves to 127\\.0\\.0\\.1 \\(loopback\\)`,
      ),
    );
    const viaAddress = await refusal(
      allowed.fetch(`http://127.0.0.1:${redirecting.port}/to-other`),
      'EgressDenied',
    );
    assert.match(
      viaAddress.message,
      new RegExp(`^Egress denied: http://127\\.0\\.0\\.2:${blocked.port} is 127\\.0\\.0\\.2 \\(loopback\\)`),
    );
    assert.equal(redirecting.seen.length, 2);
    assert.equal(blocked.seen.length, 0);
  });

  test('more redirects than maxRedirects fail; a cross-origin redirect drops credentials', async () => {
    const other = await serve(ok);
    const loop = await serve((req, res) => {
      const n = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('n') ?? 0);
      if (req.url?.startsWith('/away'))
        res.writeHead(301, { location: `http://localhost:${other.port}/` }).end();
      else res.writeHead(302, { location: `/loop?n=${n + 1}` }).end();
    });
    const allowed = guard({
      maxRedirects: 2,
      allow: parseEgressAllowList('127.0.0.1, localhost'),
      lookup: names({ localhost: ['127.0.0.1'] }),
    });
    const error = await refusal(allowed.fetch(`http://127.0.0.1:${loop.port}/loop`), 'TooManyRedirects');
    assert.equal(error.message, `http://127.0.0.1:${loop.port} redirected more than 2 times`);
    assert.deepEqual(
      loop.seen.map((s) => s.url),
      ['/loop', '/loop?n=1', '/loop?n=2'],
    );

    await allowed.fetch(`http://127.0.0.1:${loop.port}/away`, {
      headers: { authorization: 'Bearer secret', cookie: 'a=b', 'x-kept': 'yes' },
    });
    assert.equal(loop.seen.at(-1)?.headers.authorization, 'Bearer secret');
    const landed = other.seen.at(-1)?.headers;
    assert.deepEqual(
      [landed?.authorization, landed?.cookie, landed?.['x-kept']],
      [undefined, undefined, 'yes'],
    );
  });

  test('only http and https; URL credentials become Basic authorization and never appear in messages', async () => {
    const server = await serve(ok);
    const denied = await refusal(guard().fetch('file:///etc/passwd'), 'EgressDenied');
    assert.equal(denied.message, 'Egress denied: only http and https destinations are allowed, not file:');

    const allowed = guard({ allow: parseEgressAllowList('127.0.0.1') });
    const response = await allowed.fetch(`http://user:p%40ss@127.0.0.1:${server.port}/x`);
    assert.equal(response.url, `http://127.0.0.1:${server.port}/x`);
    assert.equal(
      server.seen.at(-1)?.headers.authorization,
      `Basic ${Buffer.from('user:p@ss').toString('base64')}`,
    );

    const refused = await refusal(
      guard().fetch(`http://user:hunter2@127.0.0.1:${server.port}/a?token=abc`),
      'EgressDenied',
    );
    assert.doesNotMatch(refused.message, /hunter2|user|token|abc|\/a/);
  });

  test('an answer over maxResponseBytes fails, by Content-Length or while streaming', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/declared') res.writeHead(200, { 'content-length': '2048' }).end('x'.repeat(2048));
      else if (req.url === '/streamed') {
        res.writeHead(200); // chunked: no Content-Length to check first
        res.write('x'.repeat(600));
        setTimeout(() => res.end('x'.repeat(600)), 10);
      } else res.writeHead(200).end('x'.repeat(1024));
    });
    const small = guard({ maxResponseBytes: 1024, allow: parseEgressAllowList('127.0.0.1') });
    for (const path of ['/declared', '/streamed']) {
      const error = await refusal(small.fetch(`http://127.0.0.1:${server.port}${path}`), 'ResponseTooLarge');
      assert.equal(
        error.message,
        `the response of http://127.0.0.1:${server.port} is larger than the limit of 1024 bytes`,
      );
      assert.deepEqual(error.details, { limitBytes: 1024 });
    }
    assert.equal((await small.fetch(`http://127.0.0.1:${server.port}/exact`)).text.length, 1024);
  });

  test('timeoutMs rejects with a TimeoutError; the caller signal aborts with its reason', async () => {
    const server = await serve(() => {
      /* never answers */
    });
    const allowed = guard({ allow: parseEgressAllowList('127.0.0.1') });
    const url = `http://127.0.0.1:${server.port}/`;
    await assert.rejects(
      allowed.fetch(url, { timeoutMs: 100 }),
      (error: unknown) => error instanceof DOMException && error.name === 'TimeoutError',
    );
    const controller = new AbortController();
    const pending = allowed.fetch(url, { signal: controller.signal });
    const reason = new Error('stopped');
    setTimeout(() => controller.abort(reason), 50);
    await assert.rejects(pending, (error: unknown) => error === reason);
  });
});

/** The server_name of a TLS ClientHello record. */
function sniOf(hello: Buffer): string | undefined {
  // record header (5), handshake header (4), client version (2), random (32)
  let at = 5 + 4 + 2 + 32;
  at += 1 + hello.readUInt8(at); // session ID
  at += 2 + hello.readUInt16BE(at); // cipher suites
  at += 1 + hello.readUInt8(at); // compression methods
  const end = at + 2 + hello.readUInt16BE(at);
  for (at += 2; at + 4 <= end;) {
    const type = hello.readUInt16BE(at);
    const length = hello.readUInt16BE(at + 2);
    at += 4;
    // server_name: list length (2), name type (1), name length (2), name
    if (type === 0) return hello.toString('latin1', at + 5, at + 5 + hello.readUInt16BE(at + 3));
    at += length;
  }
  return undefined;
}
