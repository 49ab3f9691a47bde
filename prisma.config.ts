import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { defineConfig, env } from 'prisma/config';

// Prisma 6.19 with the JS schema engine: works offline (no native engine download). See ../shared/DESIGN.md §1.
// Read by the Prisma CLI only (migrations), also inside the production image, so it imports nothing of ours;
// `env` is Prisma's own accessor (throws when DATABASE_URL is unset).
export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join('prisma', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'migrations') },
  // eslint-disable-next-line @typescript-eslint/require-await -- Prisma expects an async factory
  adapter: async () => new PrismaPg({ connectionString: env('DATABASE_URL') }),
});
