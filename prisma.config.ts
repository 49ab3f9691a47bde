import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { defineConfig } from 'prisma/config';
import { loadConfig } from './infra/config';

// Prisma 6.19 with the JS schema engine: works offline (no native engine download). See ../shared/DESIGN.md §1.
export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join('prisma', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'migrations') },
  // eslint-disable-next-line @typescript-eslint/require-await -- Prisma expects an async factory
  adapter: async () => {
    const { DATABASE_URL } = loadConfig();
    if (!DATABASE_URL) throw new Error('DATABASE_URL must be set to run Prisma migrations');
    return new PrismaPg({ connectionString: DATABASE_URL });
  },
});
