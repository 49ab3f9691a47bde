/**
 * Where flowctl sends its requests and with which key: flags, then FLOW_API_URL / FLOW_API_KEY, then the profile
 * file (`~/.config/flowctl/config.yaml`, or FLOWCTL_CONFIG), then the default URL.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';

export const DEFAULT_API_URL = 'http://localhost:3000';

export interface Profile {
  apiUrl?: string;
  apiKey?: string;
}

interface ConfigFile {
  current?: string;
  profiles?: Record<string, Profile>;
}

export interface Target {
  apiUrl: string;
  apiKey?: string;
  /** Where the key came from, for messages (never the key itself). */
  keySource?: string;
}

export const configPath = () =>
  process.env.FLOWCTL_CONFIG ??
  path.join(process.env.XDG_CONFIG_HOME ?? path.join(homedir(), '.config'), 'flowctl', 'config.yaml');

async function readConfigFile(): Promise<ConfigFile> {
  try {
    return (parse(await readFile(configPath(), 'utf8')) as ConfigFile | null) ?? {};
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}

/** The API to talk to. */
export async function resolveTarget(flags: {
  apiUrl?: string;
  apiKey?: string;
  profile?: string;
}): Promise<Target> {
  const file = await readConfigFile();
  const name = flags.profile ?? file.current ?? 'default';
  const profile = file.profiles?.[name] ?? {};
  const apiUrl = flags.apiUrl ?? process.env.FLOW_API_URL ?? profile.apiUrl ?? DEFAULT_API_URL;
  const [apiKey, keySource] = flags.apiKey
    ? [flags.apiKey, '--api-key']
    : process.env.FLOW_API_KEY
      ? [process.env.FLOW_API_KEY, 'FLOW_API_KEY']
      : profile.apiKey
        ? [profile.apiKey, `profile "${name}" (${configPath()})`]
        : await devAdminKey(apiUrl);
  return { apiUrl: apiUrl.replace(/\/+$/, ''), ...(apiKey ? { apiKey, keySource } : {}) };
}

/**
 * `npm run dev` only: with no key configured and the API at its local default, the admin key that `npm run dev`
 * wrote to `.data/admin-api-key` in this directory (so a new checkout works in two commands).
 */
async function devAdminKey(apiUrl: string): Promise<[string, string] | [undefined, undefined]> {
  if (apiUrl.replace(/\/+$/, '') !== DEFAULT_API_URL) return [undefined, undefined];
  const file = path.join(process.cwd(), '.data', 'admin-api-key');
  const key = await readFile(file, 'utf8').then(
    (text) => text.trim(),
    () => '',
  );
  return key ? [key, `${file} (npm run dev)`] : [undefined, undefined];
}

/** Stores a profile (mode 0600: it holds a key). */
export async function saveProfile(name: string, profile: Profile): Promise<string> {
  const file = await readConfigFile();
  const next: ConfigFile = { current: file.current ?? name, profiles: { ...file.profiles, [name]: profile } };
  const target = configPath();
  await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
  await writeFile(target, stringify(next), { mode: 0o600 });
  await chmod(target, 0o600);
  return target;
}
