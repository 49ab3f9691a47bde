import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { PrismaClient } from '../../prisma/client';
import { ensureBootstrapAdminKey, generateApiKey, hasUsableAdminKey, insertApiKey } from './api-keys';

export interface BootstrapResult {
  /** A key this call created and nobody has seen yet: print it once. */
  createdKey?: string;
  /** Where the created key was written (mode 0600). */
  keyFile?: string;
}

/**
 * Makes sure someone can administer the API. With FLOW_ADMIN_API_KEY, an admin key with exactly that secret exists.
 * Without it, and only when `keyFile` is given (`npm run dev`) and no usable admin key exists, a new admin key is
 * created and written to `keyFile` (mode 0600) so a newcomer can find it again.
 */
export async function bootstrapAdminKey(
  prisma: PrismaClient,
  options: { adminKey?: string; keyFile?: string; logger: Logger },
): Promise<BootstrapResult> {
  if (options.adminKey) {
    const state = await ensureBootstrapAdminKey(prisma, options.adminKey);
    if (state === 'created') options.logger.info('created the admin API key given in FLOW_ADMIN_API_KEY');
    if (state === 'revoked')
      options.logger.warn('the admin API key in FLOW_ADMIN_API_KEY was revoked; it stays revoked');
    return {};
  }
  if (!options.keyFile || (await hasUsableAdminKey(prisma))) return {};
  const secret = generateApiKey();
  await insertApiKey(prisma, { secret, name: 'dev-admin', role: 'admin', createdBy: 'npm run dev' });
  await mkdir(path.dirname(options.keyFile), { recursive: true });
  await writeFile(options.keyFile, `${secret}\n`, { mode: 0o600 });
  return { createdKey: secret, keyFile: options.keyFile };
}
