/** `flowctl login` and `flowctl keys …` (admin). */
import { createInterface } from 'node:readline/promises';
import { CliError, EXIT, FlowApi } from '../client';
import { resolveTarget, saveProfile } from '../config';
import { table } from '../output';
import type { Context } from './context';

export async function login(
  ctx: Context,
  options: { apiUrl?: string; apiKey?: string; profile?: string },
): Promise<number> {
  const target = await resolveTarget({ ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}) });
  let apiKey = options.apiKey;
  if (!apiKey) {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
    if (process.stdin.isTTY) process.stderr.write(`API key for ${target.apiUrl}: `);
    const first = (await rl[Symbol.asyncIterator]().next()) as IteratorResult<string, undefined>;
    apiKey = first.value?.trim();
    rl.close();
  }
  if (!apiKey) throw new CliError('no API key given (--api-key, or type it when asked)', EXIT.usage);
  // Checked before it is stored: a wrong key is refused with the API's message.
  await new FlowApi({ apiUrl: target.apiUrl, apiKey }).request('GET', '/api/Schema?limit=1');
  const name = options.profile ?? 'default';
  const file = await saveProfile(name, { apiUrl: target.apiUrl, apiKey });
  ctx.out.line(`Logged in to ${target.apiUrl}; profile "${name}" saved in ${file} (mode 0600)`);
  return EXIT.ok;
}

interface Key {
  id: string;
  name: string;
  role: string;
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export async function keysCreate(
  ctx: Context,
  name: string,
  options: { role: string; expiresAt?: string },
): Promise<number> {
  const api = await ctx.api();
  const { body } = await api.request<Key & { key: string }>('POST', '/api/ApiKey', {
    body: { name, role: options.role, ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}) },
  });
  ctx.out.show(body, () => {
    ctx.out.line(`Created ${body.role} key "${body.name}" (${body.id}). It is shown once:`);
    ctx.out.line(body.key);
  });
  return EXIT.ok;
}

export async function keysList(ctx: Context): Promise<number> {
  const api = await ctx.api();
  const { body } = await api.request<Key[]>('GET', '/api/ApiKey');
  ctx.out.show(body, () =>
    ctx.out.line(
      table(
        ['ID', 'NAME', 'ROLE', 'PREFIX', 'CREATED', 'LAST USED', 'STATE'],
        body.map((k) => [
          k.id,
          k.name,
          k.role,
          k.prefix,
          k.createdAt,
          k.lastUsedAt ?? '',
          k.revokedAt
            ? 'revoked'
            : k.expiresAt && Date.parse(k.expiresAt) < Date.now()
              ? 'expired'
              : 'active',
        ]),
      ),
    ),
  );
  return EXIT.ok;
}

export async function keysRevoke(ctx: Context, id: string): Promise<number> {
  const api = await ctx.api();
  await api.request('DELETE', `/api/ApiKey/${encodeURIComponent(id)}`);
  ctx.out.show({ revoked: id }, () => ctx.out.line(`Revoked key ${id}`));
  return EXIT.ok;
}
